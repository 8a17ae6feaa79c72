import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IS_OPTIONAL, ValidationTypes, type MetadataStorage, type ValidationArguments } from 'class-validator';

/** Answers "would class-validator accept this plain object as an instance of the class?" */
export type FastCheck = (plain: Record<string, unknown>) => boolean;

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type Constraint = { validate(value: unknown, args: ValidationArguments): unknown };

interface Validator {
  readonly metadata: ValidationMetadata;
  readonly constraint: Constraint;
  /** Filled in before each call rather than built anew: the check is synchronous, and constraints only read it. */
  readonly args: ValidationArguments;
}

interface PropertyCheck {
  readonly property: string;
  /** Other conditions (`@ValidateIf()`): any one false skips the property's rules. */
  readonly conditions: readonly ((object: unknown, value: unknown) => boolean)[];
  readonly validators: readonly Validator[];
  readonly nested: FastCheck | undefined;
}

/**
 * Compiles a DTO's class-validator metadata into one synchronous function, so a valid payload is
 * accepted without class-transformer's instance creation and class-validator's error bookkeeping
 * (most of `ValidationPipe`'s cost). The rules and the predicates stay class-validator's own: this
 * reads the metadata the decorators registered and calls the same constraint objects, in the order
 * and with the skip rules of class-validator's `ValidationExecutor`.
 *
 * Most properties of a DTO are `@IsOptional()` and absent from a given payload, so the check looks
 * only at the keys the payload has for those (reading every absent one was most of its cost), and
 * at every other property by name.
 *
 * It is a fast *accept*: when it answers `false`, the caller runs class-validator itself, which is the
 * authority and produces the messages. Returns `undefined` for a class that uses a feature it does
 * not reproduce (groups, `each`, async or promise validation); such a class always takes the slow path.
 */
export function compileFastCheck(target: new () => object): FastCheck | undefined {
  return compile(target, new Map());
}

function compile(target: new () => object, seen: Map<Function, FastCheck | undefined>): FastCheck | undefined {
  if (seen.has(target)) return seen.get(target);
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(target, '', false, false);
  // class-validator's `forbidUnknownValues` (on by default) rejects an object whose class has no rules.
  if (metadatas.length === 0) return () => false;

  const byProperty = storage.groupByPropertyName(metadatas);
  const required: PropertyCheck[] = [];
  const optional = new Map<string, PropertyCheck>();
  const check: FastCheck = (plain) => {
    for (const property of required) {
      if (!checkProperty(property, plain, plain[property.property])) return false;
    }
    // `@IsOptional()`: a property the payload lacks, or sets to null, passes whatever its other rules say.
    for (const key in plain) {
      const property = optional.get(key);
      const value = plain[key];
      if (property !== undefined && value !== undefined && value !== null && !checkProperty(property, plain, value)) return false;
    }
    return true;
  };
  seen.set(target, check);

  for (const [property, propertyMetadatas] of Object.entries(byProperty)) {
    let isOptional = false;
    const conditions: PropertyCheck['conditions'][number][] = [];
    const validators: PropertyCheck['validators'][number][] = [];
    let nested: FastCheck | undefined;
    for (const metadata of propertyMetadatas) {
      if (metadata.each || metadata.always || metadata.groups?.length) return unsupported(target, seen);
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          // IsOptional's condition is "the value is neither undefined nor null" (class-validator's
          // IsOptional.js): applied inline, on the value already read.
          if (metadata.name === IS_OPTIONAL) isOptional = true;
          else conditions.push(metadata.constraints[0]);
          break;
        case ValidationTypes.CUSTOM_VALIDATION:
        case ValidationTypes.IS_DEFINED:
          for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
            if (constraint.async) return unsupported(target, seen);
            const args = { targetName: '', property, object: {}, value: undefined, constraints: metadata.constraints };
            validators.push({ metadata, constraint: constraint.instance as Constraint, args });
          }
          break;
        case ValidationTypes.NESTED_VALIDATION: {
          const nestedClass = nestedClassOf(target, property);
          nested = nestedClass === Object ? () => false : compile(nestedClass, seen);
          if (nested === undefined) return unsupported(target, seen);
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          return unsupported(target, seen);
      }
    }
    const compiled = { property, conditions, validators, nested };
    if (isOptional) optional.set(property, compiled);
    else required.push(compiled);
  }
  return check;
}

function checkProperty({ conditions, validators, nested }: PropertyCheck, object: Record<string, unknown>, value: unknown): boolean {
  for (const condition of conditions) {
    if (!condition(object, value)) return true;
  }
  for (const { metadata, constraint, args } of validators) {
    if (metadata.validateIf && !metadata.validateIf(object, value)) continue;
    args.object = object;
    args.value = value;
    const valid = constraint.validate(value, args);
    if (valid !== true) return false; // a promise (async constraint) is not a fast answer either
  }
  if (nested && value !== undefined) {
    // class-validator validates array items one by one; that case is left to it.
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    return nested(value as Record<string, unknown>);
  }
  return true;
}

/** The class class-transformer instantiates for a nested property (what its `@Type()` says). */
function nestedClassOf(target: new () => object, property: string): new () => object {
  const probe = plainToInstance(target, { [property]: {} }) as Record<string, object>;
  return probe[property].constructor as new () => object;
}

function unsupported(target: Function, seen: Map<Function, FastCheck | undefined>): undefined {
  seen.set(target, undefined);
  return undefined;
}

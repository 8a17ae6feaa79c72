import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IS_OPTIONAL, ValidationTypes, type MetadataStorage, type ValidationArguments } from 'class-validator';
import { isPlainIsoDate } from './plain-iso-time.js';

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

/**
 * How a rule is checked. Class-validator's common built-ins are answered inline, by the test their
 * own implementation makes (a function call, an arguments object and the `validator` package's
 * bookkeeping less per property, which was most of the check's cost in a busy server). Where the
 * inline test is only the common case (a length counted in UTF-16 units, a plain ISO 8601 date),
 * a value it does not accept is asked of the constraint itself, so the answer stays class-validator's.
 */
const CONSTRAINT = 0; // any other rule: its constraint decides
const IS_STRING = 1;
const IS_NOT_EMPTY = 2;
const IS_OBJECT = 3;
const MATCHES = 4;
const MAX_LENGTH = 5;
const IS_ISO_8601 = 6;
type RuleKind = typeof CONSTRAINT | typeof IS_STRING | typeof IS_NOT_EMPTY | typeof IS_OBJECT | typeof MATCHES | typeof MAX_LENGTH | typeof IS_ISO_8601;

interface Rule {
  readonly kind: RuleKind;
  readonly validator: Validator;
  /** `MATCHES`: the pattern (neither global nor sticky, so `test` keeps no state). */
  readonly pattern: RegExp | undefined;
  /** `MAX_LENGTH`: at most this many UTF-16 units is always within the limit (class-validator counts a surrogate pair as one). */
  readonly max: number;
}

interface PropertyCheck {
  readonly property: string;
  /** Other conditions (`@ValidateIf()`): any one false skips the property's rules. */
  readonly conditions: readonly ((object: unknown, value: unknown) => boolean)[];
  readonly rules: readonly Rule[];
  readonly nested: FastCheck | undefined;
}

/**
 * Compiles a DTO's class-validator metadata into one synchronous function, so a valid payload is
 * accepted without class-transformer's instance creation and class-validator's error bookkeeping
 * (most of `ValidationPipe`'s cost). The rules stay class-validator's own: this reads the metadata
 * the decorators registered, answers the common built-ins inline by the same test (see `passes`) and
 * calls every other constraint object itself, in the order and with the skip rules of
 * class-validator's `ValidationExecutor`.
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
    const rules: Rule[] = [];
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
            rules.push(ruleOf({ metadata, constraint: constraint.instance as Constraint, args }));
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
    const compiled = { property, conditions, rules, nested };
    if (isOptional) optional.set(property, compiled);
    else required.push(compiled);
  }
  return check;
}

function checkProperty({ conditions, rules, nested }: PropertyCheck, object: Record<string, unknown>, value: unknown): boolean {
  for (const condition of conditions) {
    if (!condition(object, value)) return true;
  }
  for (const rule of rules) {
    if (!passes(rule, object, value)) return false;
  }
  if (nested && value !== undefined) {
    // class-validator validates array items one by one; that case is left to it.
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    return nested(value as Record<string, unknown>);
  }
  return true;
}

/** Whether the value passes the rule, as class-validator's constraint would answer. */
function passes(rule: Rule, object: Record<string, unknown>, value: unknown): boolean {
  switch (rule.kind) {
    case IS_STRING:
      return typeof value === 'string' || value instanceof String;
    case IS_NOT_EMPTY:
      return value !== '' && value !== null && value !== undefined;
    case IS_OBJECT:
      return value !== null && value !== undefined && (typeof value === 'object' || typeof value === 'function') && !Array.isArray(value);
    case MATCHES:
      return typeof value === 'string' && rule.pattern!.test(value);
    case MAX_LENGTH:
      return typeof value === 'string' && (value.length <= rule.max || constraintPasses(rule.validator, object, value));
    case IS_ISO_8601:
      // The form Keplars sends is valid ISO 8601 to the validator package; any other form is left to it.
      return typeof value === 'string' && (isPlainIsoDate(value) || constraintPasses(rule.validator, object, value));
    default:
      return constraintPasses(rule.validator, object, value);
  }
}

function constraintPasses({ metadata, constraint, args }: Validator, object: Record<string, unknown>, value: unknown): boolean {
  if (metadata.validateIf && !metadata.validateIf(object, value)) return true;
  args.object = object;
  args.value = value;
  return constraint.validate(value, args) === true; // a promise (async constraint) is not a fast answer either
}

/** The rule a validator's metadata names, answered inline when it is one of class-validator's built-ins with arguments this reproduces. */
function ruleOf(validator: Validator): Rule {
  const { metadata } = validator;
  const [first, second] = metadata.constraints ?? [];
  const rule = (kind: RuleKind, pattern?: RegExp, max = 0): Rule => ({ kind, validator, pattern, max });
  // A rule with its own condition (`validateIf` in its options) is left to the general path, which applies it.
  if (metadata.validateIf) return rule(CONSTRAINT);
  switch (metadata.name) {
    case 'isString':
      return rule(IS_STRING);
    case 'isNotEmpty':
      return rule(IS_NOT_EMPTY);
    case 'isObject':
      return rule(IS_OBJECT);
    case 'matches':
      return first instanceof RegExp && !first.global && !first.sticky && second === undefined ? rule(MATCHES, first) : rule(CONSTRAINT);
    case 'maxLength':
      return typeof first === 'number' ? rule(MAX_LENGTH, undefined, first) : rule(CONSTRAINT);
    case 'isIso8601':
      // Options (`strict`, `strictSeparator`) narrow what is valid: then the constraint decides alone.
      return first === undefined || (typeof first === 'object' && first !== null && Object.keys(first).length === 0) ? rule(IS_ISO_8601) : rule(CONSTRAINT);
    default:
      return rule(CONSTRAINT);
  }
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

import type { NestApplicationOptions } from '@nestjs/common';

type Instrument = NonNullable<NestApplicationOptions['instrument']>;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** Built-ins whose methods read internal slots: no Proxy can stand in for them, Observe skips them too. */
const SLOT_BACKED: readonly object[] = [Map.prototype, Set.prototype, WeakMap.prototype, WeakSet.prototype, Date.prototype, RegExp.prototype, Promise.prototype];

/**
 * An instrument stricter than `@nestjs/observe`'s, for what a later version of it (or another APM agent)
 * may do: every provider, controller and guard that is an object becomes a Proxy whose every method is
 * handed out as a wrapper of its own, called with the Proxy as `this` (Observe falls back to the raw
 * instance for classes with `#private` members; this does not), and whose getters run with the Proxy as
 * receiver. A frozen provider, a `#private` member reached through `this`, or a check that a provider is
 * the very object the module created fails under it. Only slot-backed built-ins are left alone.
 */
export function createProxyingInstrument(): Instrument {
  return {
    instanceDecorator: (instance: unknown) => {
      if (typeof instance !== 'object' || instance === null || isSlotBacked(instance)) return instance;
      const wrappers = new WeakMap<AnyFunction, AnyFunction>();
      return new Proxy(instance, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (typeof value !== 'function' || key === 'constructor' || /^class[\s{]/.test(Function.prototype.toString.call(value))) return value;
          const method = value as AnyFunction;
          let wrapper = wrappers.get(method);
          if (wrapper === undefined) {
            wrapper = function (this: unknown, ...args: unknown[]) {
              return method.apply(this, args);
            };
            Object.defineProperty(wrapper, 'name', { value: method.name });
            // Nest reads a handler's metadata (guards, route arguments) from the function it is given.
            for (const metadataKey of Reflect.getMetadataKeys(method)) Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, method), wrapper);
            wrappers.set(method, wrapper);
          }
          return wrapper;
        },
      });
    },
  };
}

function isSlotBacked(instance: object): boolean {
  for (let prototype = Object.getPrototypeOf(instance); prototype !== null; prototype = Object.getPrototypeOf(prototype)) {
    if (SLOT_BACKED.includes(prototype)) return true;
  }
  return false;
}

import { describeValue } from './dev.js';
import { LifelineError, problem } from './errors.js';

/**
 * Encodes a publish frame, refusing data that JSON would lose or silently change: `undefined`,
 * functions, symbols, BigInts, non-finite numbers, cycles, and objects that are neither plain
 * objects nor arrays and have no `toJSON` (a `Map`, a `Set`, a class instance). A value with
 * `toJSON` (a `Date`) passes as what `toJSON` returns. The development build names the path of
 * the offending value (`data.items[2]`).
 */
export function encodePublish(id: string, channel: string, data: unknown): string {
  // Development only: where each object sits, so a refusal can name the path.
  const paths = new Map<unknown, string>();
  try {
    return JSON.stringify({ type: 'pub', id, channel, data }, function (this: unknown, key: string, value: unknown) {
      const type = typeof value;
      // A plain object's prototype is Object.prototype (of any realm, whose own prototype is null) or null.
      const proto = type === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value);
      let path = '';
      if (__DEV__) {
        const at = paths.get(this);
        path = at ? (Array.isArray(this) ? `${at}[${key}]` : `${at}.${key}`) : key;
        if (type === 'object') paths.set(value, path);
      }
      if (
        type === 'undefined' ||
        type === 'function' ||
        type === 'symbol' ||
        type === 'bigint' ||
        (type === 'number' && !Number.isFinite(value)) ||
        (proto && Object.getPrototypeOf(proto))
      ) {
        throw problem(
          'BAD_DATA',
          __DEV__ &&
            `${path} is ${describeValue(value)}, which JSON cannot carry as it is: publish plain objects, arrays, strings, finite numbers, booleans and null`,
        );
      }
      return value;
    });
  } catch (error) {
    // JSON.stringify's own refusal: a cycle.
    throw error instanceof LifelineError ? error : problem('BAD_DATA', __DEV__ && 'the data refers to itself (a cycle)', error);
  }
}

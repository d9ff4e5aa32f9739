// JSON.parse takes any depth, but JSON.stringify recurses and throws RangeError (maximum call
// stack size exceeded) a few thousand levels down. A value that can't be re-encoded must never
// be stored or fanned out, so depth is checked right after parsing, without recursion.

/**
 * Whether a parsed JSON value nests arrays and objects at most `max` levels deep (a scalar is
 * level 0, `[]` and `{}` level 1, `[[1]]` level 2). Walks with its own stack, so however deep
 * the value is, the check itself never overflows.
 */
export function withinDepth(value: unknown, max: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return false;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child !== 'object' || child === null) continue;
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return true;
}

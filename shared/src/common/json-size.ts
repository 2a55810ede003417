const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * The UTF-8 size of `JSON.stringify(value ?? null)` if it is at most `limit`; otherwise some number above `limit`
 * (a lower bound of the size). Walks the value without serialising it, iteratively (no recursion, whatever the
 * nesting), and stops as soon as the limit is passed: a string longer than the remaining budget is counted by its
 * length (each UTF-16 unit is at least one byte of JSON) without being copied, so measuring a multi-MiB payload
 * allocates next to nothing. The stack never holds more than `limit` entries: each pushed value was charged at
 * least one byte (a bracket or separator) first.
 */
export function jsonSizeUpTo(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value ?? null];
  const str = (s: string): void => {
    // JSON of a string is at least its length plus the quotes; only strings that may fit are serialised (≤ 6 × limit).
    size += s.length + 2 > limit - size ? s.length + 2 : utf8Length(JSON.stringify(s));
  };
  while (stack.length > 0 && size <= limit) {
    let v = stack.pop();
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: () => unknown }).toJSON();
    switch (typeof v) {
      case 'string':
        str(v);
        break;
      case 'number':
        size += Number.isFinite(v) ? String(v).length : 4;
        break;
      case 'boolean':
        size += v ? 4 : 5;
        break;
      case 'bigint':
        size += String(v).length;
        break;
      case 'object':
        if (v === null) {
          size += 4;
        } else if (Array.isArray(v)) {
          const a: unknown[] = v;
          size += 2 + Math.max(0, a.length - 1);
          for (let i = 0; i < a.length && size <= limit; i++) {
            const e = a[i];
            // undefined, functions and symbols in arrays are written as null
            stack.push(e === undefined || typeof e === 'function' || typeof e === 'symbol' ? null : e);
          }
        } else {
          size += 2;
          let first = true;
          for (const k in v) {
            if (size > limit) break;
            if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
            const e = (v as Record<string, unknown>)[k];
            if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue;
            if (!first) size += 1;
            first = false;
            str(k);
            size += 1;
            stack.push(e);
          }
        }
        break;
      default:
        // undefined, functions and symbols at the top level: JSON.stringify(x ?? null) gives nothing or null
        size += 4;
    }
  }
  return size;
}

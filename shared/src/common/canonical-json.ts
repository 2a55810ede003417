/**
 * JSON with object keys sorted at every level: the same data always gives the same text. The text is what
 * `JSON.stringify` gives for a copy of the value with every object's keys sorted (array-index keys first, in
 * numeric order, as JSON.stringify writes them); it is written directly, without the copies, because the run digest
 * serializes every job record.
 */
export function canonicalJson(value: unknown): string {
  return serialize('', value) as string;
}

function serialize(key: string, value: unknown): string | undefined {
  let v = value;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(v); // throws, as JSON.stringify does
    case 'object':
      break;
    default:
      return undefined; // undefined, functions and symbols: left out of objects, null in arrays
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + (serialize(String(i), v[i]) ?? 'null');
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  const shape = shapeOf(Object.keys(o));
  const order = shape.order;
  const heads = shape.heads;
  let out = '{';
  let sep = '';
  for (let j = 0; j < order.length; j++) {
    const k = order[j]!;
    const s = serialize(k, o[k]);
    if (s === undefined) continue;
    out += sep + heads[j]! + s;
    sep = ',';
  }
  return `${out}}`;
}

/** An object's keys as `Object.keys` lists them, in the order they are written, each with its quoted `"key":`. */
interface Shape {
  readonly keys: readonly string[];
  readonly order: readonly string[];
  readonly heads: readonly string[];
}

/**
 * Records of one kind have the same keys in the same order: their written order is computed once per list of keys
 * (looked up by its first key, compared key by key) and kept, up to {@link MAX_SHAPES} lists.
 */
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const MAX_SHAPES = 4096;

function shapeOf(keys: string[]): Shape {
  const first = keys.length > 0 ? keys[0]! : '';
  const known = shapes.get(first);
  if (known !== undefined) {
    for (const shape of known) if (sameKeys(shape.keys, keys)) return shape;
  }
  const shape = newShape(keys);
  if (shapeCount < MAX_SHAPES) {
    shapeCount++;
    if (known === undefined) shapes.set(first, [shape]);
    else known.push(shape);
  }
  return shape;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function newShape(keys: string[]): Shape {
  // Object.keys lists array-index keys first, in numeric order; JSON.stringify of the sorted copy keeps them there.
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices]!)) indices++;
  const order = [...keys.slice(0, indices), ...keys.slice(indices).sort()];
  return { keys: [...keys], order, heads: order.map((k) => `${quote(k)}:`) };
}

function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** A string in JSON quotes. Most strings here need no escape, and JSON.stringify per string is the slow part. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/**
 * Human units accepted on the command line and in scenario files. Sizes use binary multiples, as the selftests'
 * `parse_size` does (`1G` = 1 GiB); a bare number is bytes.
 */
const SIZE_SUFFIX: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses `4G`, `512M`, `1GiB`, `4096` into bytes; undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtb]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const mult = SIZE_SUFFIX[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  const bytes = Number(m[1]) * mult;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Formats bytes with a binary suffix (`96GiB`, `4KiB`). */
export function formatSize(bytes: number): string {
  for (const [suffix, mult] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${suffix}`;
  }
  return `${bytes}B`;
}

/** Seconds as the selftest prints a timespec: `%ld.%.9lds`. */
export function formatTimespec(seconds: number): string {
  const ns = Math.round(seconds * 1e9);
  const sec = Math.floor(ns / 1e9);
  const nsec = ns - sec * 1e9;
  return `${sec}.${String(nsec).padStart(9, '0')}s`;
}

/**
 * A unit's multiplier written as `coefficient × 10^exponent` with an integer coefficient, so that every multiplier
 * here (2^30, 1e9, 1/8 = 125e-3, 60, 1e-6, …) is exact and a parsed quantity can be rounded once, correctly.
 */
type Multiplier = readonly [coefficient: bigint, exponent: number];

/** A decimal number (`12`, `1.5`; no sign, exponent or bare point), optional spaces, then the unit text. */
const QUANTITY = /^\s*(\d+)(?:\.(\d+))?\s*(.*?)\s*$/;

interface Quantity {
  readonly value: number;
  /** Whether the number was written with a fractional part (`1.0` counts). */
  readonly fractional: boolean;
  /** The unit text as written; '' for a bare number. */
  readonly unit: string;
}

/**
 * Splits `text` into number and unit and scales the number by the unit's multiplier from `units` (looked up exactly,
 * so case matters and `toString` is not a unit). The result is the correctly rounded double nearest to the exact
 * decimal product, so `1.1kB/s` is exactly 1100 and `300ms` exactly 0.3. Undefined for anything that does not parse,
 * an unknown unit, or a product that overflows to Infinity.
 */
function parseQuantity(text: string, units: ReadonlyMap<string, Multiplier>): Quantity | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const unit = m[3]!;
  const mult = units.get(unit);
  if (mult === undefined) return undefined;
  const fraction = m[2] ?? '';
  const [coefficient, exponent] = mult;
  const value = Number(`${BigInt(m[1]! + fraction) * coefficient}e${exponent - fraction.length}`);
  if (!Number.isFinite(value)) return undefined;
  return { value, fractional: m[2] !== undefined, unit };
}

const KIBI = 2n ** 10n;
const MEBI = 2n ** 20n;
const GIBI = 2n ** 30n;
const TEBI = 2n ** 40n;

/** Multipliers to bytes per second. Bits are decimal (`Mbit/s` = 1e6 bits = 125000 bytes per second). */
const RATE_UNITS: ReadonlyMap<string, Multiplier> = new Map<string, Multiplier>([
  ['', [1n, 0]],
  ['B/s', [1n, 0]],
  ['KiB/s', [KIBI, 0]],
  ['MiB/s', [MEBI, 0]],
  ['GiB/s', [GIBI, 0]],
  ['TiB/s', [TEBI, 0]],
  ['kB/s', [1n, 3]],
  ['KB/s', [1n, 3]],
  ['MB/s', [1n, 6]],
  ['GB/s', [1n, 9]],
  ['TB/s', [1n, 12]],
  ['bit/s', [125n, -3]],
  ['kbit/s', [125n, 0]],
  ['Kbit/s', [125n, 0]],
  ['Mbit/s', [125n, 3]],
  ['Gbit/s', [125n, 6]],
  ['Tbit/s', [125n, 9]],
  ['bps', [125n, -3]],
  ['kbps', [125n, 0]],
  ['Kbps', [125n, 0]],
  ['Mbps', [125n, 3]],
  ['Gbps', [125n, 6]],
  ['Tbps', [125n, 9]],
]);

/**
 * Parses a transfer rate into bytes per second; undefined when the text is not a rate.
 *
 * The number is a non-negative decimal (`10`, `1.5`; no sign, exponent, `.5` or `1.`), optionally followed by
 * spaces and a unit; surrounding whitespace is ignored. Units are case-sensitive (`Mb/s`, `mB/s` and `mbps` are
 * rejected rather than guessed at):
 * - binary bytes: `B/s`, `KiB/s`, `MiB/s`, `GiB/s`, `TiB/s` (powers of 1024);
 * - decimal bytes: `kB/s` or `KB/s` (1e3), `MB/s` (1e6), `GB/s` (1e9), `TB/s` (1e12);
 * - decimal bits, divided by 8: `bit/s`, `kbit/s` or `Kbit/s`, `Mbit/s`, `Gbit/s`, `Tbit/s`, and the short forms
 *   `bps`, `kbps` or `Kbps`, `Mbps`, `Gbps`, `Tbps`.
 *
 * A bare number is bytes per second. The result need not be an integer (`1bit/s` is 0.125).
 *
 * @example parseRate('128MiB/s') // 134217728
 * @example parseRate('10Gbit/s') // 1.25e9
 * @example parseRate('1.5 GB/s') // 1.5e9
 */
export function parseRate(text: string): number | undefined {
  return parseQuantity(text, RATE_UNITS)?.value;
}

/** Multipliers to seconds. */
const DURATION_UNITS: ReadonlyMap<string, Multiplier> = new Map<string, Multiplier>([
  ['', [1n, 0]],
  ['s', [1n, 0]],
  ['ns', [1n, -9]],
  ['us', [1n, -6]],
  ['\u00b5s', [1n, -6]], // µ MICRO SIGN
  ['\u03bcs', [1n, -6]], // μ GREEK SMALL LETTER MU, which some keyboards and fonts produce instead
  ['ms', [1n, -3]],
  ['m', [60n, 0]],
  ['min', [60n, 0]],
  ['h', [3600n, 0]],
  ['d', [86400n, 0]],
]);

/**
 * Parses a duration into seconds; undefined when the text is not a duration.
 *
 * Same number syntax as {@link parseRate}. Units (case-sensitive): `ns`, `us` or `µs`, `ms`, `s`, `m` or `min`,
 * `h`, `d`; a bare number is seconds. Compound forms (`1h30m`) are not accepted.
 *
 * @example parseDuration('300ms') // 0.3
 * @example parseDuration('10m') // 600
 * @example parseDuration('250us') // 0.00025
 */
export function parseDuration(text: string): number | undefined {
  return parseQuantity(text, DURATION_UNITS)?.value;
}

/** Multipliers to bytes for {@link parseSizeStrict}. */
const STRICT_SIZE_UNITS: ReadonlyMap<string, Multiplier> = new Map<string, Multiplier>([
  ['', [1n, 0]],
  ['B', [1n, 0]],
  ['K', [KIBI, 0]],
  ['k', [KIBI, 0]],
  ['KiB', [KIBI, 0]],
  ['M', [MEBI, 0]],
  ['m', [MEBI, 0]],
  ['MiB', [MEBI, 0]],
  ['G', [GIBI, 0]],
  ['g', [GIBI, 0]],
  ['GiB', [GIBI, 0]],
  ['T', [TEBI, 0]],
  ['t', [TEBI, 0]],
  ['TiB', [TEBI, 0]],
  ['kB', [1n, 3]],
  ['KB', [1n, 3]],
  ['MB', [1n, 6]],
  ['GB', [1n, 9]],
  ['TB', [1n, 12]],
]);

/**
 * Parses a size into bytes, more strictly than {@link parseSize} and with decimal units; undefined when the text is
 * not a size.
 *
 * Accepted: a bare integer (bytes), or a number (decimals allowed) with one of these units:
 * - `B`;
 * - binary: `K`, `M`, `G`, `T` (either case) and `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024, as in parseSize);
 * - decimal: `kB` or `KB` (1e3), `MB` (1e6), `GB` (1e9), `TB` (1e12) — where parseSize reads `1GB` as 1 GiB.
 *
 * Rejected where parseSize accepts them: a bare fraction (`1.5`), lower-case byte suffixes that read as bits
 * (`1gb`, `1Gb`, `1b`), and the odd forms `1iB`, `1bib`. As in parseSize the result must be a whole number of
 * bytes no larger than 2^53 - 1 (`0.3K` is rejected). parseSize stays as it is because the selftest flags use its
 * semantics.
 *
 * @example parseSizeStrict('1G') // 1073741824
 * @example parseSizeStrict('1GB') // 1e9
 * @example parseSizeStrict('1.5 GiB') // 1610612736
 */
export function parseSizeStrict(text: string): number | undefined {
  const q = parseQuantity(text, STRICT_SIZE_UNITS);
  if (q === undefined || (q.unit === '' && q.fractional)) return undefined;
  return Number.isSafeInteger(q.value) ? q.value : undefined;
}

/** A display unit, `size` base units large; `ratio` is how many of it make the next larger unit. */
interface DisplayUnit {
  readonly unit: string;
  readonly size: number;
  readonly ratio: number;
}

const RATE_DISPLAY: readonly DisplayUnit[] = [
  { unit: 'B/s', size: 1, ratio: 1024 },
  { unit: 'KiB/s', size: 2 ** 10, ratio: 1024 },
  { unit: 'MiB/s', size: 2 ** 20, ratio: 1024 },
  { unit: 'GiB/s', size: 2 ** 30, ratio: 1024 },
  { unit: 'TiB/s', size: 2 ** 40, ratio: Infinity },
];

const DURATION_DISPLAY: readonly DisplayUnit[] = [
  { unit: 'ns', size: 1e-9, ratio: 1000 },
  { unit: 'us', size: 1e-6, ratio: 1000 },
  { unit: 'ms', size: 1e-3, ratio: 1000 },
  { unit: 's', size: 1, ratio: 60 },
  { unit: 'm', size: 60, ratio: 60 },
  { unit: 'h', size: 3600, ratio: Infinity },
];

/**
 * `x` (finite, non-negative) in plain decimal notation, never with an exponent: at most 3 decimals when x >= 1,
 * 4 significant digits when 0 < x < 1, trailing zeros dropped.
 */
function plainDecimal(x: number): string {
  if (x === 0) return '0';
  // Past 1e21 toFixed switches to exponent notation; such doubles are integers, so print all their digits.
  if (x >= 1e21) return BigInt(x).toString();
  let text = x >= 1 ? x.toFixed(3) : x.toPrecision(4);
  const e = /^(\d)(?:\.(\d*))?e-(\d+)$/.exec(text); // toPrecision writes x < 1e-6 as 1.234e-7
  if (e) text = `0.${'0'.repeat(Number(e[3]) - 1)}${e[1]!}${e[2] ?? ''}`;
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** `value` in the largest unit of `units` (ascending) that it reaches, as `plainDecimal` + unit; 0 as `0<zero>`. */
function formatScaled(value: number, units: readonly DisplayUnit[], zero: string, what: string): string {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${what}: expected a finite non-negative number, got ${value}`);
  }
  if (value === 0) return `0${zero}`;
  let i = 0;
  while (i + 1 < units.length && value >= units[i + 1]!.size) i++;
  let u = units[i]!;
  let text = plainDecimal(value / u.size);
  // Rounding can reach the next unit (1023.9996KiB/s → "1024"): say "1MiB/s" instead.
  if (Number(text) >= u.ratio && i + 1 < units.length) {
    u = units[i + 1]!;
    text = plainDecimal(value / u.size);
  }
  return `${text}${u.unit}`;
}

/**
 * Formats bytes per second with the largest binary unit it reaches (`B/s`, `KiB/s`, `MiB/s`, `GiB/s`, `TiB/s`) and
 * at most 3 decimals, trailing zeros dropped: `128MiB/s`, `1.25GiB/s`, `1.164GiB/s` (for 1.25e9), `0B/s`. Rates
 * below 1 B/s get 4 significant digits (`0.125B/s`). The output never uses exponent notation and
 * {@link parseRate} reads it back to within a relative 1e-3 (5e-4 in fact).
 *
 * @throws RangeError when `bytesPerSecond` is negative, NaN or infinite.
 */
export function formatRate(bytesPerSecond: number): string {
  return formatScaled(bytesPerSecond, RATE_DISPLAY, 'B/s', 'formatRate');
}

/**
 * Formats seconds with the largest unit it reaches (`ns`, `us`, `ms`, `s`, `m`, `h`) and at most 3 decimals,
 * trailing zeros dropped: `300ms`, `1.5s`, `10m`, `2h`, `250us`, `0s`. Durations below 1 ns get 4 significant
 * digits. The output never uses exponent notation and {@link parseDuration} reads it back to within a relative
 * 1e-3 (5e-4 in fact).
 *
 * @throws RangeError when `seconds` is negative, NaN or infinite.
 */
export function formatDuration(seconds: number): string {
  return formatScaled(seconds, DURATION_DISPLAY, 's', 'formatDuration');
}

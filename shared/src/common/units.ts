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

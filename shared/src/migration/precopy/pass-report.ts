/** What a precopy pass ended with (at the bitmap sync after it), for observers: tests, progress, reports. */
export interface PassReport {
  readonly pass: number;
  readonly endS: number;
  readonly durationS: number;
  readonly sentBytes: number;
  readonly dirtyPages: number;
  readonly throttlePct: number;
}

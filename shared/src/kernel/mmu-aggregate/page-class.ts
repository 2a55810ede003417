/**
 * A contiguous run of guest pages that the aggregate MMU treats alike: each page is written as a Poisson process of
 * `writeRate` per second and read at `readRate` per second. Classes are laid out in address order from the start
 * of guest memory and are whole 2 MiB regions (the last may be shorter). Workloads (`migration/workload`) describe
 * a guest as a list of these.
 */
export interface PageClass {
  readonly name: string;
  readonly pages: number;
  readonly writeRate: number;
  readonly readRate: number;
}

/** Page writes per second over all classes. */
export function totalWriteRate(classes: readonly PageClass[]): number {
  return classes.reduce((s, c) => s + c.pages * c.writeRate, 0);
}

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
  /**
   * Fraction of the class the guest has touched since it started, hence mapped by KVM when dirty logging is
   * enabled (whole huge units where the host backs them huge); the rest has no SPTE. Default 1.
   */
  readonly mapped?: number;
}

/** Fraction of a class mapped by KVM at the start (`PageClass.mapped`, default 1). */
export function mappedShare(c: PageClass): number {
  return c.mapped ?? 1;
}

/** Page writes per second over all classes. */
export function totalWriteRate(classes: readonly PageClass[]): number {
  return classes.reduce((s, c) => s + c.pages * c.writeRate, 0);
}

/** Pages over all page classes, from per-class counts (summed in class order). */
export function totalPages(perClass: readonly number[]): number {
  let s = 0;
  for (const x of perClass) s += x;
  return s;
}

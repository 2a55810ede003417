/** The key of a host that may not receive a migration now (not up, or no inbound slot). */
export const INELIGIBLE = -Infinity;

/**
 * Destination choice in O(log n): a segment tree over host ids whose leaves hold each host's key (its free memory,
 * or {@link INELIGIBLE}) and whose inner nodes hold the largest key below them.
 *
 * {@link CapacityIndex.best} returns exactly what a scan of the hosts in id order keeping the first strictly larger
 * key would: the host with the largest key (the lowest id among equal keys) that has at least the memory asked for
 * and passes the caller's check. Its search is a depth-first branch and bound: the more promising child (larger key,
 * left on ties) first, and a subtree is skipped when its largest key is below the memory asked for or cannot beat
 * the best host found so far by `(key desc, id asc)`. When the first host reached passes the check (the usual case)
 * that is one descent; hosts the check rejects cost more.
 */
export class CapacityIndex {
  /** Leaves start here: host h is node `leaves + h`; the root is node 1. */
  private readonly leaves: number;
  /** Largest key in each node's range. */
  private readonly maxKey: Float64Array;
  /** Lowest host id in each node's range. */
  private readonly firstHost: Int32Array;
  /** The search's stack of nodes: at most one pending sibling per level, plus the node in hand. */
  private readonly stack: Int32Array;

  /** An index of `hostCount` hosts, all {@link INELIGIBLE}. */
  constructor(hostCount: number) {
    let leaves = 1;
    let levels = 0;
    while (leaves < hostCount) {
      leaves *= 2;
      levels++;
    }
    this.leaves = leaves;
    this.maxKey = new Float64Array(2 * leaves).fill(INELIGIBLE);
    this.firstHost = new Int32Array(2 * leaves);
    for (let h = 0; h < leaves; h++) this.firstHost[leaves + h] = h;
    for (let node = leaves - 1; node >= 1; node--) this.firstHost[node] = this.firstHost[2 * node]!;
    this.stack = new Int32Array(levels + 2);
  }

  /** The key of `host`. */
  key(host: number): number {
    return this.maxKey[this.leaves + host]!;
  }

  /** Sets the key of `host` (its free memory, or {@link INELIGIBLE}) and the largest keys above it. */
  set(host: number, key: number): void {
    const maxKey = this.maxKey;
    let node = this.leaves + host;
    maxKey[node] = key;
    for (node >>= 1; node >= 1; node >>= 1) maxKey[node] = Math.max(maxKey[2 * node]!, maxKey[2 * node + 1]!);
  }

  /**
   * The eligible host with the largest key of at least `need` (the lowest id among equal keys) for which `accept`
   * holds, or -1 if there is none.
   */
  best(need: number, accept: (host: number) => boolean): number {
    const { maxKey, firstHost, stack, leaves } = this;
    let bestHost = -1;
    let bestKey = INELIGIBLE;
    let top = 0;
    stack[top++] = 1;
    while (top > 0) {
      const node = stack[--top]!;
      const key = maxKey[node]!;
      if (key === INELIGIBLE || key < need) continue;
      if (bestHost >= 0 && (key < bestKey || (key === bestKey && firstHost[node]! >= bestHost))) continue;
      if (node >= leaves) {
        if (accept(node - leaves)) {
          bestHost = node - leaves;
          bestKey = key;
        }
        continue;
      }
      const left = 2 * node;
      const right = left + 1;
      // The child searched first is pushed last.
      if (maxKey[right]! > maxKey[left]!) {
        stack[top++] = left;
        stack[top++] = right;
      } else {
        stack[top++] = right;
        stack[top++] = left;
      }
    }
    return bestHost;
  }
}

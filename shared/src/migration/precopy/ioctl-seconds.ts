import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';

/** Seconds `fn`'s KVM ioctls take on the VMM's ioctl thread (the migration thread waits for them). */
export function ioctlSeconds(mmu: AggregateMmu, fn: () => void): number {
  const before = mmu.ioctl.ns;
  fn();
  return (mmu.ioctl.ns - before) / 1e9;
}

import type { AggregateVmConfig } from './aggregate-vm.js';

/**
 * Share of the split units the host can no longer map huge (`pfn_not_mappable`: the THP backing them was split
 * during the migration). They stay mapped at 4K under every strategy: no zap, no promotion, no refault huge.
 * HugeTLB pages are never split by the host, so only `anonymous_thp` has them.
 */
export function pfnNotMappableShare(cfg: AggregateVmConfig): number {
  return cfg.backing === 'anonymous_thp' ? cfg.bailouts.pfn_not_mappable : 0;
}

import type { KvmHostMmus } from '../host/resolve-kvm-host-mmus.js';
import type { BackingSource } from '../mmu/backing-source.js';
import { backingPageLevel } from '../mmu/backing-source.js';
import type { CostProfile } from '../mmu/cost-profile.js';
import { pagesPerHpage } from '../mmu/pg-level.js';
import type { BailoutLikelihoods } from '../mmu/promote-bailout.js';
import type { PageClass } from './page-class.js';

/** What the aggregate model needs to know about one VM and its host. */
export interface AggregateVmConfig {
  readonly pages: number;
  readonly vcpus: number;
  readonly backing: BackingSource;
  readonly thpCoverage: number;
  /** KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | INITIALLY_SET, as QEMU uses when the kernel has it. */
  readonly manualProtect: boolean;
  /**
   * The host's KVM in effect, and the same kernel with each MMU: the TDP MMU's strategies are evaluated on the TDP
   * MMU, `rmap-zap` on the shadow MMU, both driven by the same guest timeline (`resolveKvmHostMmus`).
   */
  readonly kernel: KvmHostMmus;
  readonly profile: CostProfile;
  readonly bailouts: BailoutLikelihoods;
  readonly classes: readonly PageClass[];
}

/**
 * Huge units of a page class that the host backs huge (THP coverage applies to `anonymous_thp`); fractional
 * counts are expectations. The collapsible unit is the host huge page (2 MiB or 1 GiB), none for 4 KiB backing.
 */
export function hugeUnits(cfg: AggregateVmConfig, c: PageClass): number {
  const level = backingPageLevel(cfg.backing);
  if (level === 1) return 0;
  const units = c.pages / pagesPerHpage(level);
  return cfg.backing === 'anonymous_thp' ? units * cfg.thpCoverage : units;
}

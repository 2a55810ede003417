import { isTdpMmuStrategy, type DisableStrategy } from '../mmu/disable-strategy.js';
import type { CostLedger } from '../mmu/cost-ledger.js';
import type { MmuStats } from '../mmu/mmu-stats.js';
import { mmuBehavioursOf } from '../host/mmu-behaviours-of.js';
import type { AggregateDisable } from './aggregate-disable.js';
import type { AggregateVmConfig } from './aggregate-vm.js';
import { CountedMmu } from './counted-mmu.js';
import { recoverHugePagesDisable } from './recover-huge-pages-disable.js';
import { rmapZapDisable } from './rmap-zap-disable.js';
import { zapCollapsibleDisable } from './zap-collapsible-disable.js';
import { zapLeafDisable } from './zap-leaf-disable.js';

/** Pages per QEMU dirty-bitmap clear chunk (`x-clear-bitmap-shift` 18: 1 GiB). */
export const CLEAR_CHUNK_PAGES = 1 << 18;

/** Options of an {@link AggregateMmu}. */
export interface AggregateMmuOptions {
  /**
   * Keep the other MMU beside the host's, for the strategies the host does not run (default true). Without it only
   * the host's MMU is kept: the timeline, the host's costs and the disable of the strategies of the host's MMU are
   * the same to the bit (the two MMUs share nothing), and the other MMU's strategies cannot be evaluated.
   */
  readonly counterfactuals?: boolean;
}

/**
 * The MMU of one VM during a migration, in counts. The host runs one MMU (`cfg.kernel.inEffect.tdpMmu`); beside it
 * the model keeps the other, driven by the same operations (enable, GET, CLEARs, guest writes), so that every disable
 * strategy is evaluated from the same guest timeline: the TDP MMU's on the TDP MMU, `rmap-zap` on the shadow MMU.
 * `ioctl`, `vcpu` and `stats` are the host's MMU's (its ioctl thread sets the migration's timeline); `mmuOf` gives a
 * strategy's own. Without counterfactuals (`AggregateMmuOptions`) the other MMU is not kept (`other` is null).
 */
export class AggregateMmu {
  /** The host's MMU. */
  readonly host: CountedMmu;
  /** The MMU the host does not run, kept for its strategies' counterfactuals; null without them. */
  readonly other: CountedMmu | null;

  constructor(
    readonly cfg: AggregateVmConfig,
    options: AggregateMmuOptions = {},
  ) {
    const inEffect = cfg.kernel.inEffect;
    this.host = new CountedMmu(cfg, mmuBehavioursOf(inEffect.tdpMmu ? cfg.kernel.tdp : cfg.kernel.shadow));
    this.other = options.counterfactuals === false ? null : new CountedMmu(cfg, mmuBehavioursOf(inEffect.tdpMmu ? cfg.kernel.shadow : cfg.kernel.tdp));
  }

  /** The TDP MMU (null when it is not the host's and counterfactuals are off). */
  get tdp(): CountedMmu | null {
    return this.cfg.kernel.inEffect.tdpMmu ? this.host : this.other;
  }

  /** The shadow MMU (null when it is not the host's and counterfactuals are off). */
  get shadow(): CountedMmu | null {
    return this.cfg.kernel.inEffect.tdpMmu ? this.other : this.host;
  }

  /** The host's MMU's ioctl thread. */
  get ioctl(): CostLedger {
    return this.host.ioctl;
  }

  /** The host's MMU's vCPUs, summed. */
  get vcpu(): CostLedger {
    return this.host.vcpu;
  }

  /** The host's MMU's counters. */
  get stats(): MmuStats {
    return this.host.stats;
  }

  /** The MMU whose disable `strategy` is. */
  mmuOf(strategy: DisableStrategy): CountedMmu {
    if (isTdpMmuStrategy(strategy) === this.cfg.kernel.inEffect.tdpMmu) return this.host;
    if (this.other === null) throw new Error(`strategy ${strategy} runs on the MMU the host does not run, and counterfactuals are off`);
    return this.other;
  }

  /** KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES (see `kvmEnableDirtyLogging`). */
  enable(running: number): void {
    this.host.enable(running);
    this.other?.enable(running);
  }

  /** KVM_GET_DIRTY_LOG with manual protect: a bitmap copy. */
  getDirtyLog(): void {
    this.host.getDirtyLog();
    this.other?.getDirtyLog();
  }

  /** The CLEAR_DIRTY_LOG calls of one pass (see `CountedMmu.clearDirtyLog`). */
  clearDirtyLog(
    pages: readonly number[],
    words: readonly number[],
    chunks: number,
    running: number,
    share: number = 1,
    fresh: boolean = false,
  ): void {
    this.host.clearDirtyLog(pages, words, chunks, running, share, fresh);
    this.other?.clearDirtyLog(pages, words, chunks, running, share, fresh);
  }

  /** Guest writes of one pass (see `CountedMmu.guestWrites`). */
  guestWrites(written: readonly number[], seconds: number): void {
    this.host.guestWrites(written, seconds);
    this.other?.guestWrites(written, seconds);
  }

  /** Per class: the share of its pages the host's MMU has left mapped at 4K over huge backing (`CountedMmu.splitShares`). */
  splitShares(): number[] {
    return this.host.splitShares();
  }

  /**
   * Evaluates disabling dirty logging under `strategy` from the current state of its MMU (a paired counterfactual:
   * the state is not changed). `running`: vCPUs in guest mode during the disable (0 when the VM is stopped);
   * `rateScale`: the workload's speed afterwards (1 unthrottled); touches after the disable refault zapped units.
   */
  evaluateDisable(strategy: DisableStrategy, running: number, rateScale: number): AggregateDisable {
    const state = this.mmuOf(strategy).state;
    switch (strategy) {
      case 'rmap-zap':
        return rmapZapDisable(state, running, rateScale);
      case 'zap-leaf':
        return zapLeafDisable(state, running, rateScale);
      case 'zap':
      case 'zap-batched':
        return zapCollapsibleDisable(state, strategy, running, rateScale);
      case 'promote':
        return recoverHugePagesDisable(state, running, rateScale);
    }
  }
}

import { CostLedger } from '../mmu/cost-ledger.js';
import { CostId } from '../mmu/cost-profile.js';
import { MmuStats } from '../mmu/mmu-stats.js';
import { chargeRemoteTlbFlushes, remoteTlbFlushNs } from '../mmu/remote-tlb-flush.js';
import type { AggregateVmConfig } from './aggregate-vm.js';

/**
 * One disable being evaluated (KVM_SET_USER_MEMORY_REGION clearing KVM_MEM_LOG_DIRTY_PAGES), on ledgers and
 * counters of its own so that the MMU's state is left as it was: the ioctl thread, the vCPUs (summed), the events.
 */
export interface DisableRun {
  readonly ioctl: CostLedger;
  readonly vcpu: CostLedger;
  readonly stats: MmuStats;
  /** One remote TLB flush with the disable's running vCPUs, ns. */
  readonly flushNs: number;
  /** The ioctl's time when the walk starts, after the memslot update, ns. */
  readonly walkStartNs: number;
  /** `n` remote TLB flushes (`kvm_flush_remote_tlbs`) on the ioctl thread; the running vCPUs lose their exits. */
  flush(n: number): void;
}

/**
 * Starts a disable with `running` vCPUs in guest mode: the memslot update (`kvm_set_memslot`) is charged, and the
 * walk of `kvm_mmu_slot_apply_flags` comes next.
 */
export function startDisable(cfg: AggregateVmConfig, running: number): DisableRun {
  const ioctl = new CostLedger(cfg.profile, 'ioctl');
  const vcpu = new CostLedger(cfg.profile, 'vcpus');
  const stats = new MmuStats();
  const flushNs = remoteTlbFlushNs(cfg.profile.costs, cfg.vcpus, running);
  ioctl.charge(CostId.memslot_update_ns);
  return {
    ioctl,
    vcpu,
    stats,
    flushNs,
    walkStartNs: ioctl.ns,
    flush: (n) => vcpu.wait(chargeRemoteTlbFlushes(ioctl, stats, n, cfg.vcpus, running)),
  };
}

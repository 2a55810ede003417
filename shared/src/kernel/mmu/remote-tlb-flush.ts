import type { CostLedger } from './cost-ledger.js';
import { CostId, type CostValues } from './cost-profile.js';
import type { MmuStats } from './mmu-stats.js';

/** The flush's cost ids, read once: every CLEAR of every migration charges them. */
const BASE = CostId.tlb_flush_base_ns;
const PER_VCPU = CostId.tlb_flush_per_vcpu_ns;
const PER_RUNNING_VCPU = CostId.tlb_flush_per_running_vcpu_ns;

/** The cost of one remote TLB flush in a VM of `nrVcpus` vCPUs, `running` of them in guest mode, in ns. */
export function remoteTlbFlushNs(costs: CostValues, nrVcpus: number, running: number): number {
  return costs.tlb_flush_base_ns + costs.tlb_flush_per_vcpu_ns * nrVcpus + costs.tlb_flush_per_running_vcpu_ns * running;
}

/**
 * Charges `n` remote TLB flushes (`kvm_flush_remote_tlbs`: a request bit per vCPU, an IPI and a wait per vCPU in
 * guest mode) to `ledger` and counts them in `stats`. Returns the time the running vCPUs lose to the exits, which
 * the caller accounts.
 */
export function chargeRemoteTlbFlushes(ledger: CostLedger, stats: MmuStats, n: number, nrVcpus: number, running: number): number {
  ledger.charge(BASE, n);
  ledger.charge(PER_VCPU, n * nrVcpus);
  ledger.charge(PER_RUNNING_VCPU, n * running);
  stats.tlbFlushes += n;
  return n * running * ledger.profile.costs.flush_vcpu_stall_ns;
}

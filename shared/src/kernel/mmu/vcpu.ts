import { CostLedger } from './cost-ledger.js';
import type { CostProfile } from './cost-profile.js';
import type { MmuAccount } from './tdp-mmu.js';

/** One vCPU (`struct kvm_vcpu`): its thread's cost ledger and whether it is running in guest mode. */
export class Vcpu {
  readonly ledger: CostLedger;
  private running = false;
  /** {ledger, VM counters}, set by the VM that owns this vCPU. */
  account: MmuAccount | undefined;

  constructor(
    readonly vcpuIdx: number,
    profile: CostProfile,
    /** Shared count of the VM's vCPUs in guest mode, kept up to date by `inGuest`. */
    private readonly inGuestCount: { n: number } = { n: 0 },
  ) {
    this.ledger = new CostLedger(profile, `vcpu${vcpuIdx}`);
  }

  /** In guest mode: a remote TLB flush must IPI it and wait; an idle vCPU only gets a request bit. */
  get inGuest(): boolean {
    return this.running;
  }

  set inGuest(value: boolean) {
    if (value !== this.running) this.inGuestCount.n += value ? 1 : -1;
    this.running = value;
  }
}

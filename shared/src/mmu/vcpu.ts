import { CostLedger } from './cost-ledger.js';
import type { CostProfile } from './cost-profile.js';

/** One vCPU (`struct kvm_vcpu`): its thread's cost ledger and whether it is running in guest mode. */
export class Vcpu {
  readonly ledger: CostLedger;
  /** In guest mode: a remote TLB flush must IPI it and wait; an idle vCPU only gets a request bit. */
  inGuest = false;

  constructor(
    readonly vcpuIdx: number,
    profile: CostProfile,
  ) {
    this.ledger = new CostLedger(profile, `vcpu${vcpuIdx}`);
  }
}

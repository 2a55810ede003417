import type { PrecopyContext } from './precopy-context.js';
import { SWITCHOVER } from './qemu-defaults.js';

/** `migration_stop_vm` → `vm_stop_force_state`: the vCPUs paused, the devices stopped and drained, s. */
export function vmStopS(ctx: PrecopyContext): number {
  return SWITCHOVER.vmStopS + SWITCHOVER.vmStopPerVcpuS * ctx.job.vm.vcpus;
}

/** The non-iterable device state (`qemu_savevm_state_complete_precopy`, or the post-copy package), s. */
export function deviceStateS(ctx: PrecopyContext): number {
  return SWITCHOVER.deviceStateS + SWITCHOVER.deviceStatePerVcpuS * ctx.job.vm.vcpus;
}

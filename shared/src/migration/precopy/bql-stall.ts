import { GUEST_IMPACT } from './qemu-defaults.js';

/**
 * vCPU time lost, summed over `running` vCPUs in guest mode, while QEMU holds the BQL for `holdS` seconds inside a
 * KVM ioctl (the dirty-log start in `ram_init_bitmaps`, the stop in `migration_cleanup` → `ram_save_cleanup` →
 * `memory_global_dirty_log_stop`, a probe's `global_dirty_log_sync`): guest execution needs no BQL, but an exit
 * that does (`GUEST_IMPACT.bqlExitsPerVcpuPerS`, Poisson) waits for the rest of the hold. A vCPU whose next such
 * exit comes t after the hold starts waits holdS − t when t < holdS: in expectation holdS − (1 − e^(−λ·holdS)) / λ.
 */
export function bqlStallS(holdS: number, running: number): number {
  if (holdS <= 0 || running <= 0) return 0;
  const lambda = GUEST_IMPACT.bqlExitsPerVcpuPerS;
  return running * (holdS + Math.expm1(-lambda * holdS) / lambda);
}

/**
 * What `dirty_log_perf_test` runs with when a flag is not given (`dirty_log_perf_test.c` `main()`: one vCPU,
 * DEFAULT_PER_VCPU_MEM_SIZE = 1 GiB per vCPU, 2 iterations, anonymous backing, manual protect, 100 % writes,
 * sequential access, 1 memslot; the seed, 1, is `SELFTEST_DEFAULT_SEED`). One place for the parser, the calibration's
 * published points and its suggested runs.
 */
export const SELFTEST_DEFAULTS = {
  vcpus: 1,
  vcpuMemoryBytes: 1 << 30,
  iterations: 2,
  backing: 'anonymous',
  runVcpusDuringDisable: false,
  manualProtect: true,
  writePercent: 100,
  randomAccess: false,
  slots: 1,
} as const;

/** `-r` when not given: `main()` sets the guest random seed to 1. */
export const SELFTEST_DEFAULT_SEED = 1;

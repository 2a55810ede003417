/**
 * QEMU migration parameters' defaults (QEMU 9.x `migration/options.c`, `qapi/migration.json`; see
 * ../shared/reference/precopy-and-peers.md §1.1), and the few costs of the migration thread the model assumes.
 */
export const QEMU_DEFAULTS = {
  /** `max-bandwidth`: MAX_THROTTLE = 128 MiB/s (was 32 MiB/s before QEMU 5.2). */
  maxBandwidthBytesPerS: 128 * 2 ** 20,
  /** `downtime-limit`: DEFAULT_MIGRATE_SET_DOWNTIME = 300 ms. */
  downtimeLimitS: 0.3,
  /** auto-converge: `throttle-trigger-threshold` 50 %, `cpu-throttle-initial` 20 %, `cpu-throttle-increment` 10 %, `max-cpu-throttle` 99 %. */
  throttleTriggerThresholdPct: 50,
  cpuThrottleInitialPct: 20,
  cpuThrottleIncrementPct: 10,
  maxCpuThrottlePct: 99,
  /** Syncs with dirtying above the threshold before throttling starts or steps up (`migration_trigger_throttle`). */
  throttleTriggerSyncs: 2,
} as const;

/** `TARGET_PAGE_SIZE` on x86: the page of QEMU's dirty bitmap, of RAM migration and of `query-migrate`'s counts. */
export const TARGET_PAGE_SIZE = 4096;

/** Bytes on the wire per page (`ram_save_page`: an 8-byte page header; a zero page sends the header and 1 byte). */
export const WIRE = {
  normalPageBytes: 4096 + 8,
  zeroPageBytes: 9,
} as const;

/** Migration-thread costs outside KVM; assumptions, not measured. */
export const MIGRATION_OVERHEADS = {
  /** Setup besides the KVM ioctls (connection, device state setup): assumption, 10 ms. */
  setupS: 0.01,
  /** Switchover besides the remaining RAM (stop, device state, start on the destination): assumption, 20 ms. */
  switchoverS: 0.02,
  /** Rounds after which a migration that has not converged is reported as still `active`. */
  maxRounds: 100_000,
} as const;

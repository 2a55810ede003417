/**
 * QEMU migration parameters' defaults (QEMU 9.2 `migration/options.c`, `qapi/migration.json`; checked in 5.0, 6.2,
 * 8.1, 9.2.4 and 10.2.0; see ../shared/reference/precopy-and-peers.md §1.1), and the costs of a migration outside
 * KVM the model assumes.
 */
export const QEMU_DEFAULTS = {
  /** `max-bandwidth`: MAX_THROTTLE = 128 MiB/s (was 32 MiB/s before QEMU 5.2, commit 7590a2ae091f). */
  maxBandwidthBytesPerS: 128 * 2 ** 20,
  /** `downtime-limit`: DEFAULT_MIGRATE_SET_DOWNTIME = 300 ms. */
  downtimeLimitS: 0.3,
  /** auto-converge: `throttle-trigger-threshold` 50 %, `cpu-throttle-initial` 20 %, `cpu-throttle-increment` 10 %, `max-cpu-throttle` 99 %. */
  throttleTriggerThresholdPct: 50,
  cpuThrottleInitialPct: 20,
  cpuThrottleIncrementPct: 10,
  maxCpuThrottlePct: 99,
  /** Qualifying checks with dirtying above the threshold before throttling starts or steps up (`migration_trigger_throttle`: `++rs->dirty_rate_high_cnt >= 2`). */
  throttleTriggerSyncs: 2,
  /**
   * `migration_bitmap_sync` checks the throttle triggers and updates the rates only when more than this has passed
   * since the last check (`if (end_time > rs->time_last_bitmap_sync + 1000)`, "more than 1 second"), over the dirty
   * pages and sent bytes of that period.
   */
  throttleCheckPeriodS: 1,
  /** `multifd-channels`: DEFAULT_MIGRATE_MULTIFD_CHANNELS = 2 (QEMU 5.0 – 10.2) when the multifd capability is on. */
  multifdChannels: 2,
  /** `calc-dirty-rate` in page-sampling mode: DIRTYRATE_DEFAULT_SAMPLE_PAGES = 512 sampled pages per GiB. */
  samplePagesPerGiB: 512,
} as const;

/** `TARGET_PAGE_SIZE` on x86: the page of QEMU's dirty bitmap, of RAM migration and of `query-migrate`'s counts. */
export const TARGET_PAGE_SIZE = 4096;

/** Bytes on the wire per page (`ram_save_page`: an 8-byte page header; a zero page sends the header and 1 byte). */
export const WIRE = {
  normalPageBytes: 4096 + 8,
  zeroPageBytes: 9,
} as const;

/** The network and the migration thread's stream. */
export const STREAM = {
  /**
   * The link assumed when a job gives none (`link_bandwidth_bytes_per_s: null`): 10 Gbit/s, the 10 GbE link of
   * issue 10's "~9x at QEMU's 128 MiB/s default". Assumption.
   */
  assumedLinkBytesPerS: 1.25e9,
  /**
   * What one migration stream (the migration thread, or one multifd channel thread) sends with one core, bytes per
   * second, and so its throughput cap: about one core at 10 Gbit/s for the thread and TCP, single stream (issue
   * 10). Assumption. Its inverse is the host CPU charged per byte on the wire; multifd spreads the same work over
   * its channels and multiplies the cap.
   */
  bytesPerCoreS: 1.25e9,
} as const;

/**
 * What a switchover costs besides the remaining RAM (QEMU 9.2 `migration_completion_precopy`: `migration_stop_vm` →
 * `vm_stop_force_state`, the last-stage `migration_bitmap_sync_precopy(true)` in `ram_save_complete`, the device
 * state in `qemu_savevm_state_complete_precopy`, then `close_return_path_on_source` before
 * `migration_completion_end` takes the downtime). QEMU documents no fixed cost (fact sheet Q14): every value is an
 * assumption.
 */
export const SWITCHOVER = {
  /** `vm_stop_force_state`: pause the vCPUs, drain and flush the block devices with no I/O in flight: 2 ms. */
  vmStopS: 0.002,
  /** The same, per vCPU: kick it out of KVM_RUN and wait for its thread: 10 µs. */
  vmStopPerVcpuS: 10e-6,
  /** Non-iterable device state (virtio, interrupt controllers, timers) serialised and sent: 5 ms. */
  deviceStateS: 0.005,
  /** The same, per vCPU: registers, MSRs, XSAVE read with KVM_GET_* ioctls and sent: 50 µs. */
  deviceStatePerVcpuS: 50e-6,
  /** `close_return_path_on_source`: the destination loads the device state and the return path shuts: 5 ms. */
  returnPathCloseS: 0.005,
  /** `vm_start` of the source after a failed or cancelled switchover (`migration_iteration_finish`): 2 ms. */
  vmStartS: 0.002,
} as const;

/** Migration-thread costs outside KVM; assumptions, not measured. */
export const MIGRATION_OVERHEADS = {
  /** Setup besides the KVM ioctls (connection, device state setup): assumption, 10 ms. */
  setupS: 0.01,
  /** Rounds after which a migration that has not converged is reported as still `active`. */
  maxRounds: 100_000,
  /**
   * Hashing one sampled 4 KiB page in page-sampling mode (`compute_page_hash`, an xxHash64 over the page, cold in
   * cache): assumption, 1 µs.
   */
  sampleHashNsPerPage: 1000,
} as const;

/** What a migration costs the guest beyond the MMU's named costs; assumptions, each with its reason. */
export const GUEST_IMPACT = {
  /**
   * Share of a running vCPU's time lost while the memory it touches is mapped 4K in the EPT instead of huge (TLB
   * reach, two-dimensional walks): 10 %. Assumption: published 4K-vs-huge EPT gaps run from a few % to about 30 %
   * for memory-bound guests.
   */
  ept4kSlowdown: 0.1,
  /**
   * vCPU exits per second that need the BQL (MMIO or PIO emulated in QEMU's main loop, not in KVM or an ioeventfd):
   * 10 per vCPU per second. Assumption. A vCPU whose next such exit falls inside a BQL-holding ioctl waits for it.
   */
  bqlExitsPerVcpuPerS: 10,
  /**
   * A post-copy page fault on the destination (`postcopy_request_page` → `migrate_send_rp_req_pages`): one network
   * round trip plus queueing behind the background stream, postcopy-preempt off (the default): 1 ms. Assumption.
   */
  postcopyPageRequestS: 0.001,
} as const;

import type { BackingSource } from '../mmu/backing-source.js';

/**
 * One `dirty_log_perf_test` invocation as a user ran it on their host (`migsim calibrate` input): the command line's
 * configuration, what is known of the host, and the timings the selftest printed, in seconds. Parsed from the
 * selftest's own output by `parseSelftestRun`; `migsim dirty-log-perf --format selftest` prints the same lines.
 */
export interface SelftestRun {
  /** Where it came from, for messages: the file name. */
  readonly source: string;
  /** The command line's configuration (`dirty_log_perf_test` flags; defaults as the selftest's `main()` sets them). */
  readonly config: {
    /** `-v`: vCPUs (default 1). */
    readonly vcpus: number;
    /** `-b`: bytes of guest memory per vCPU (default 1 GiB). */
    readonly vcpuMemoryBytes: number;
    /** `-i`: iterations (default 2). */
    readonly iterations: number;
    /** `-s`: backing source (default anonymous). */
    readonly backing: BackingSource;
    /** `-e`: vCPUs keep running while logging is disabled. */
    readonly runVcpusDuringDisable: boolean;
    /** `-g` absent: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 used (GET then CLEAR). */
    readonly manualProtect: boolean;
    /** `-w`: write percentage (default 100). */
    readonly writePercent: number;
    /** `-a`: random access. */
    readonly randomAccess: boolean;
    /** `-x`: memslots (default 1). */
    readonly slots: number;
    /** `-r`: the guest's random seed (the selftest's default 1); `parseSelftestRun` always sets it. */
    readonly seed?: number;
    /** `-c`: the pCPUs the vCPUs were pinned to, as given (null: not pinned); `parseSelftestRun` always sets it. */
    readonly pinnedCpus?: string | null;
  };
  /** What the file says of the host (null when not given). */
  readonly host: {
    /** `uname -r`, e.g. `6.12.8-200.fc41.x86_64`. */
    readonly uname: string | null;
    /** CPU model name as /proc/cpuinfo gives it. */
    readonly cpu: string | null;
    /** `kvm.*` / `kvm_intel.*` module parameters given, e.g. `{ 'kvm.tdp_mmu': 'Y' }`. */
    readonly kvmParams: Readonly<Record<string, string>>;
  };
  /** What else the run printed and where, as `parseSelftestRun` read it. */
  readonly printed?: {
    /** The command line as written, and its 1-based line in the file. */
    readonly commandLine: string;
    readonly commandLineNumber: number;
    /** "Testing guest mode: …" (`vm_guest_mode_string`), e.g. `PA-bits:ANY, VA-bits:48,  4K pages`. */
    readonly guestMode: string;
    /** "guest physical test memory: [start, end)", bytes. */
    readonly guestPhysRange: readonly [number, number];
  };
  /** The timings printed, seconds. */
  readonly timings: {
    readonly populateS: number;
    readonly enableS: number;
    /** Per iteration: dirty memory, get dirty log, clear dirty log (null without manual protect). */
    readonly iterations: readonly { readonly dirtyS: number; readonly getS: number; readonly clearS: number | null }[];
    readonly disableS: number;
  };
}

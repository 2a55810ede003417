import type { MigrationResult } from '../job/migration-result.js';
import type { PrecopyContext } from './precopy-context.js';

/**
 * Where a precopy migration is: `setup` (logging enabled, first sync), a `pass` over guest memory, the bitmap
 * `sync` after it, `stop-copy` (the VM stopped), `postcopy` (switched: the destination runs, the rest is pushed), or
 * `done`.
 */
export type PrecopyPhase = 'setup' | 'pass' | 'sync' | 'stop-copy' | 'postcopy' | 'done';

/** One pass over guest memory: what it sends, planned at its start, and how far it has got. */
export interface PrecopyPass {
  /** The first pass: every page is sent (zero pages as markers), and no chunk has been cleared since logging started. */
  readonly first: boolean;
  readonly zeroPages: number;
  readonly normalPages: number;
  /** Bytes on the wire. */
  readonly bytes: number;
  /** Per class: 64-page bitmap words with dirty bits (CLEAR_DIRTY_LOG works on them). */
  readonly words: readonly number[];
  /** 1 GiB chunks holding dirty pages: one CLEAR each. */
  readonly chunks: number;
  /** Steps the pass is simulated in, each a group of chunks cleared then sent. */
  readonly steps: number;
  readonly startS: number;
  stepsDone: number;
  /** Time the pass's steps spent on the wire so far, s (the pass's measured bandwidth is its bytes over this). */
  transferS: number;
}

/** Everything a precopy migration changes as it runs; the steps of `runPrecopy` update it. */
export interface PrecopyState {
  phase: PrecopyPhase;
  status: MigrationResult['status'];
  errorDesc: string | null;
  /** KVM_SET_USER_MEMORY_REGION turning logging on, ns (as the MMU block reports it). */
  enableNs: number;
  setupTimeS: number;
  /**
   * The VM's downtime as reported: stop-and-copy (or the post-copy switchover), from the pause when the completion
   * timeout paused the VM; null until it starts, and again when it is interrupted.
   */
  downtimeS: number | null;
  /** When the VM stopped for stop-and-copy or the post-copy switchover; null while it runs. */
  vmStoppedAtS: number | null;
  /** When the completion timeout paused the VM (action pause); null unless it did. */
  pausedAtS: number | null;
  expectedDowntimeS: number;
  /** auto-converge's CPU throttle, %. */
  throttlePct: number;
  /** Qualifying checks with dirtying above the trigger threshold (QEMU's `dirty_rate_high_cnt`). */
  highSyncs: number;
  /** The throttle-check period of `migration_bitmap_sync`: its start (`time_last_bitmap_sync`), dirty pages and bytes sent since. */
  periodStartS: number;
  periodDirtyPages: number;
  periodSentBytes: number;
  /** dirty-limit has been triggered: each vCPU's dirty rate is capped. */
  dirtyLimitOn: boolean;
  /** Dirty bitmap syncs (KVM_GET_DIRTY_LOG). */
  syncs: number;
  /** Complete passes. */
  rounds: number;
  transferredBytes: number;
  normalPages: number;
  duplicatePages: number;
  remainingPages: number;
  dirtyPagesRate: number;
  /** Per class: pages dirty for the next pass (initially set: all of them for the first). */
  dirty: number[];
  /** The pass under way, or the last one; null before the first. */
  pass: PrecopyPass | null;
  /** Duration of the last complete pass, s. */
  lastPassS: number;
  stopRule: MigrationResult['dirty_log_stop'];
  /** When the stop of dirty logging began (`migration_cleanup` under the BQL); the disable runs from then. */
  stoppedAtS: number | null;
  /** When the migration switched to post-copy; null unless it did. */
  postcopyAtS: number | null;
  /** The destination's expected page requests in post-copy (`postcopy_request_page`). */
  postcopyRequests: number;
  /** vCPU-seconds the running guest lost to auto-converge's sleep or dirty-limit's quota. */
  throttlingS: number;
  /** vCPU-seconds the running guest lost to 4K EPT mappings while logging. */
  ept4kS: number;
  /** Touch-weighted share of memory mapped 4K by logging at the last accounting. */
  share4k: number;
  /** vCPU-seconds lost waiting for the BQL held by the enable and the first sync. */
  enableBqlS: number;
}

/** The state before setup: nothing sent, every page dirty (KVM_DIRTY_LOG_INITIALLY_SET). */
export function initialPrecopyState(ctx: PrecopyContext): PrecopyState {
  return {
    phase: 'setup',
    status: 'active',
    errorDesc: null,
    enableNs: 0,
    setupTimeS: 0,
    downtimeS: null,
    vmStoppedAtS: null,
    pausedAtS: null,
    expectedDowntimeS: 0,
    throttlePct: 0,
    highSyncs: 0,
    periodStartS: 0,
    periodDirtyPages: 0,
    periodSentBytes: 0,
    dirtyLimitOn: false,
    syncs: 0,
    rounds: 0,
    transferredBytes: 0,
    normalPages: 0,
    duplicatePages: 0,
    remainingPages: ctx.pages,
    dirtyPagesRate: 0,
    dirty: ctx.classes.map((c) => c.pages),
    pass: null,
    lastPassS: 0,
    stopRule: 'never',
    stoppedAtS: null,
    postcopyAtS: null,
    postcopyRequests: 0,
    throttlingS: 0,
    ept4kS: 0,
    share4k: 0,
    enableBqlS: 0,
  };
}

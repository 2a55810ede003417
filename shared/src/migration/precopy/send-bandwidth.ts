import type { MigrationJob } from '../job/migration-job.js';
import { STREAM } from './qemu-defaults.js';

type Settings = Pick<MigrationJob['migration'], 'max_bandwidth_bytes_per_s' | 'link_bandwidth_bytes_per_s' | 'multifd_channels'>;

/** The link's bandwidth, bytes per second: the job's share of its hosts' NICs, or the assumed 10 Gbit/s link. */
export function linkBandwidth(m: Settings): number {
  return m.link_bandwidth_bytes_per_s ?? STREAM.assumedLinkBytesPerS;
}

/**
 * What the migration's streams can push, bytes per second: one core's worth per stream (the migration thread, or
 * each multifd channel thread: `multifd_send_thread`), so multifd multiplies the single stream's cap.
 */
export function streamCap(m: Settings): number {
  return STREAM.bytesPerCoreS * (m.multifd_channels ?? 1);
}

/**
 * The bandwidth precopy sends at: QEMU's max-bandwidth (`migration_rate_set(max_bandwidth)`), or less when the link
 * or the streams give less.
 */
export function precopyBandwidth(m: Settings): number {
  return Math.min(m.max_bandwidth_bytes_per_s, linkBandwidth(m), streamCap(m));
}

/**
 * The bandwidth of stop-and-copy and of post-copy: the rate limit is lifted (QEMU 9.2 `migration_completion_precopy`
 * and 10.2 `migration_switchover_start`: `migration_rate_set(RATE_LIMIT_DISABLED)`; `postcopy_start` sets
 * `max-postcopy-bandwidth`, 0 = unlimited by default), so the link or the streams decide.
 */
export function unthrottledBandwidth(m: Settings): number {
  return Math.min(linkBandwidth(m), streamCap(m));
}

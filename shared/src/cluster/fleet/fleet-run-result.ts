import type { MigrationResult } from '../../migration/job/migration-result.js';
import type { LinkTier } from '../network/fabric.js';
import type { JobPurpose } from './job-transport.js';

/** One job of the run, as it went: who, where, when, and the worker's result. */
export interface JobRecord {
  readonly id: string;
  readonly serial: number;
  readonly purpose: JobPurpose;
  readonly wave: number | null;
  readonly vm: number;
  readonly src: number;
  readonly dst: number | null;
  readonly attempt: number;
  /** The racks of the source and destination hosts (`cluster.network.hosts_per_rack`); dstRack null for a probe. */
  readonly srcRack: number;
  readonly dstRack: number | null;
  readonly startS: number;
  readonly endS: number;
  readonly result: MigrationResult;
}

export interface WaveRecord {
  readonly wave: number;
  readonly hosts: readonly number[];
  readonly startS: number;
  endS: number | null;
  migrations: number;
  /** VMs left on the wave's hosts when the wave ended (attempts exhausted, no room). */
  stuckVms: number;
}

/**
 * The utilisation of one tier of the fabric's links over the run, in bins of `binS`: per bin, the mean over the
 * tier's links (each link's bytes carried / its capacity over the bin) and the busiest link's.
 */
export interface TierUsage {
  readonly tier: LinkTier;
  /** Links of the tier (each direction of a NIC or uplink counts once). */
  readonly links: number;
  /** One link's capacity, bytes/s, before tenant traffic (the tier's largest when they differ). */
  readonly capacityBytesPerS: number;
  readonly meanUtil: readonly number[];
  readonly maxUtil: readonly number[];
}

/** The fabric's shape and its links' utilisation over time; migrations only (tenant traffic is not counted). */
export interface NetworkUsage {
  readonly binS: number;
  readonly racks: number;
  readonly hostsPerRack: number;
  readonly tiers: readonly TierUsage[];
}

export interface FleetRunResult {
  readonly jobs: JobRecord[];
  readonly waves: WaveRecord[];
  /** When the last maintenance wave finished evacuating; null without maintenance. */
  readonly makespanS: number | null;
  readonly endS: number;
  /** Link utilisation by tier; null when no migration ran. */
  readonly network: NetworkUsage | null;
}

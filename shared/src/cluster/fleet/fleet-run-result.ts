import type { MigrationResult } from '../../migration/job/migration-result.js';
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

export interface FleetRunResult {
  readonly jobs: JobRecord[];
  readonly waves: WaveRecord[];
  /** When the last maintenance wave finished evacuating; null without maintenance. */
  readonly makespanS: number | null;
  readonly endS: number;
}

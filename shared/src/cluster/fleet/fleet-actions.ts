import type { MigrationResult } from '../../migration/job/migration-result.js';
import type { Vm } from './build-fleet.js';
import type { JobPurpose } from './job-transport.js';

/**
 * What the fleet's policies (maintenance waves, probe rounds, rebalancing) may ask of the simulation that runs
 * them. Each policy takes the part it needs, so it can be tested with a stand-in.
 */
export interface FleetActions {
  /** Whether a job (migration or probe) of VM `vmId` is in flight: a VM has one job at a time. */
  isBusy(vmId: number): boolean;
  /** Whether any migration is in flight (one that may still free room somewhere when it ends). */
  migrationsInFlight(): boolean;
  /** Starts migrating `vm` from `src` to `dst`, reserving its room on `dst`; `wave` is its maintenance wave. */
  migrate(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number): void;
  /** Starts a dirty-rate probe of `vm` on `host`; `onDone` gets its result when it is applied. */
  probe(vm: Vm, host: number, onDone?: (result: MigrationResult) => void): void;
  /** Reports progress (a wave started or ended). */
  progress(): void;
}

import { Environment } from '../../engine/environment.js';
import { Interrupt } from '../../engine/errors/interrupt.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { endPass } from './end-pass.js';
import { endSync } from './end-sync.js';
import { interruptPrecopy, type InterruptCause } from './interrupt-precopy.js';
import type { PassReport } from './pass-report.js';
import { passStep } from './pass-step.js';
import { precopyContext, type PrecopyContext } from './precopy-context.js';
import { precopyResult } from './precopy-result.js';
import { initialPrecopyState, type PrecopyState } from './precopy-state.js';
import { setupPrecopy } from './setup-precopy.js';
import { startPass } from './start-pass.js';
import { finishStopAndCopy } from './stop-and-copy.js';

/**
 * A QEMU precopy live migration of one VM on the discrete-event engine: setup (enable dirty logging with
 * initially-set, first bitmap sync), passes that CLEAR each 1 GiB chunk just before sending it and send dirty
 * pages at the migration bandwidth, a bitmap sync after each pass with QEMU's convergence test (remaining bytes ≤
 * bandwidth × downtime-limit) and auto-converge / dirty-limit triggers, then stop-and-copy. Cancel, destination
 * failure and the completion timeout interrupt it; dirty logging is then turned off as QEMU does.
 *
 * A state machine: one process waits for what each step returns (a duration) and takes the next step from the
 * state's phase; an interrupt takes the interruption step instead.
 */
export function runPrecopy(job: MigrationJob, profile: CostProfile, onPass?: (p: PassReport) => void): MigrationResult {
  const ctx = precopyContext(job, profile, onPass);
  const s = initialPrecopyState(ctx);
  const env = new Environment();
  const proc = env.process(function* precopy() {
    try {
      for (let wait: number | null = setupPrecopy(ctx, s); wait !== null; wait = nextStep(ctx, s, env.now)) yield env.timeout(wait);
    } catch (e) {
      if (!(e instanceof Interrupt)) throw e;
      interruptPrecopy(ctx, s, e.cause as InterruptCause, env.now);
    }
  });
  const interruptAt = (t: number | null, cause: InterruptCause) => {
    if (t === null) return;
    env.callAt(t, () => {
      if (proc.isAlive) proc.interrupt(cause);
    });
  };
  const m = job.migration;
  interruptAt(m.cancel_at_s, { status: 'cancelled', reason: 'migrate_cancel' });
  interruptAt(m.fail_at_s, { status: 'failed', reason: 'destination failed' });
  interruptAt(m.timeout_s, { status: 'cancelled', reason: 'completion timeout: aborted' });
  env.run(proc);
  return precopyResult(ctx, s, env.now);
}

/** The step taken at `nowS`, when what the last one started is over: returns its duration, s, or null when done. */
function nextStep(ctx: PrecopyContext, s: PrecopyState, nowS: number): number | null {
  switch (s.phase) {
    case 'setup':
      return startPass(ctx, s, nowS);
    case 'pass': {
      const p = s.pass!;
      p.stepsDone++;
      return p.stepsDone < p.steps ? passStep(ctx, s) : endPass(ctx, s, nowS);
    }
    case 'sync':
      return endSync(ctx, s, nowS);
    case 'stop-copy':
      return finishStopAndCopy(s);
    case 'done':
      return null;
  }
}

import { Environment } from '../../engine/environment.js';
import { Interrupt } from '../../engine/errors/interrupt.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { endPass } from './end-pass.js';
import { endSync } from './end-sync.js';
import { interruptPrecopy, type InterruptKind } from './interrupt-precopy.js';
import type { PassReport } from './pass-report.js';
import { passStep } from './pass-step.js';
import { finishPostcopy } from './postcopy.js';
import { precopyContext, type PrecopyContext } from './precopy-context.js';
import { precopyResult } from './precopy-result.js';
import { initialPrecopyState, type PrecopyState } from './precopy-state.js';
import { setupPrecopy } from './setup-precopy.js';
import { startPass } from './start-pass.js';
import { finishStopAndCopy } from './stop-and-copy.js';

/**
 * A QEMU live migration of one VM on the discrete-event engine: setup (enable dirty logging with initially-set,
 * first bitmap sync), passes that CLEAR each 1 GiB chunk just before sending it and send dirty pages at the
 * migration bandwidth, a bitmap sync after each pass with QEMU's convergence test (remaining bytes ≤ bandwidth ×
 * downtime-limit) and, once a second, the auto-converge / dirty-limit triggers, then stop-and-copy at the link's
 * bandwidth, or a switch to post-copy. Cancel, destination failure and the completion timeout (abort, post-copy or
 * pause) interrupt it; a migration that ends without completing stops dirty logging as QEMU's cleanup does.
 *
 * A state machine: one process waits for what each step returns (a duration) and takes the next step from the
 * state's phase; an interrupt takes the interruption step, which may end the migration or let it go on.
 */
export function runPrecopy(job: MigrationJob, profile: CostProfile, onPass?: (p: PassReport) => void): MigrationResult {
  const ctx = precopyContext(job, profile, onPass);
  const s = initialPrecopyState(ctx);
  const env = new Environment();
  const proc = env.process(function* precopy() {
    let wait: number | null = setupPrecopy(ctx, s);
    // Steps until the migration is over; an interrupt takes its step and, if the migration goes on, the steps resume.
    while (wait !== null) {
      try {
        for (; wait !== null; wait = nextStep(ctx, s, env.now)) {
          s.stepEndS = env.now + wait;
          yield env.timeout(wait);
        }
      } catch (e) {
        if (!(e instanceof Interrupt)) throw e;
        wait = interruptPrecopy(ctx, s, e.cause as InterruptKind, env.now);
      }
    }
  });
  const interruptAt = (t: number | null, kind: InterruptKind) => {
    if (t === null) return;
    env.callAt(t, () => {
      if (proc.isAlive) proc.interrupt(kind);
    });
  };
  const m = job.migration;
  interruptAt(m.cancel_at_s, 'cancel');
  interruptAt(m.fail_at_s, 'fail');
  interruptAt(m.timeout_s, 'timeout');
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
      return finishStopAndCopy(s, nowS);
    case 'postcopy':
      return finishPostcopy(s);
    case 'done':
      return null;
  }
}

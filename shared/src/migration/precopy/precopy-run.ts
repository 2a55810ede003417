import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { endPass } from './end-pass.js';
import { endSync } from './end-sync.js';
import { interruptPrecopy, type InterruptKind } from './interrupt-precopy.js';
import type { PassReport } from './pass-report.js';
import { passStep } from './pass-step.js';
import { finishPostcopy } from './postcopy.js';
import { precopyContext, type PrecopyContext, type PrecopyOptions } from './precopy-context.js';
import { precopyResult } from './precopy-result.js';
import { initialPrecopyState, type PrecopyState } from './precopy-state.js';
import { setupPrecopy } from './setup-precopy.js';
import { startPass } from './start-pass.js';
import type { StepPlan, WireCap } from './step-plan.js';
import { finishStopAndCopy } from './stop-and-copy.js';
import type { Wire } from './wire.js';

/** An interrupt of the migration at `atS` seconds after its start. */
export interface PrecopyInterrupt {
  readonly atS: number;
  readonly kind: InterruptKind;
}

/** The job's interrupts in time order; at the same time cancel, then failure, then timeout. */
export function interruptsOf(m: MigrationJob['migration']): PrecopyInterrupt[] {
  const out: PrecopyInterrupt[] = [];
  if (m.cancel_at_s !== null) out.push({ atS: m.cancel_at_s, kind: 'cancel' });
  if (m.fail_at_s !== null) out.push({ atS: m.fail_at_s, kind: 'fail' });
  if (m.timeout_s !== null) out.push({ atS: m.timeout_s, kind: 'timeout' });
  return out.sort((a, b) => a.atS - b.atS);
}

/** Where the step under way is: working before its transfer, on the wire, or working after it. */
type Stage = 'before' | 'wire' | 'after';

/**
 * A QEMU live migration of one VM, advanced one event at a time: setup (enable dirty logging with initially-set,
 * first bitmap sync), passes that CLEAR each 1 GiB chunk just before sending it, a bitmap sync after each pass with
 * QEMU's convergence test and, once a second, the auto-converge / dirty-limit triggers, then stop-and-copy with the
 * rate limit lifted, or a switch to post-copy. Cancel, destination failure and the completion timeout interrupt it;
 * a migration that ends without completing stops dirty logging as QEMU's cleanup does.
 *
 * Each step is a {@link StepPlan}: work off the wire, bytes on the wire, work off the wire. How long the bytes take
 * is the {@link Wire}'s: a link of its own (`constantWire`), or the rates the fabric gave the migration's flow
 * (`historyWire`). The coordinator advances a run as the fleet's clock goes (`nextS`, `advance`), and tells the
 * fabric what the run sends at (`sending`); a worker runs the same job to its end with the rates the coordinator
 * recorded. Times are seconds since the job's start. Interrupts come first when due at the same time as a step's end.
 */
export class PrecopyRun {
  private readonly ctx: PrecopyContext;
  readonly state: PrecopyState;
  private plan: StepPlan | null = null;
  private stage: Stage = 'before';
  private stageStartS = 0;
  private nowS = 0;
  private readonly interrupts: PrecopyInterrupt[];
  private nextInterrupt = 0;

  constructor(
    readonly job: MigrationJob,
    profile: CostProfile,
    private readonly wire: Wire,
    onPass?: (p: PassReport) => void,
    options: PrecopyOptions = {},
  ) {
    this.ctx = precopyContext(job, profile, onPass, options);
    this.state = initialPrecopyState(this.ctx);
    this.interrupts = interruptsOf(job.migration);
    this.begin(setupPrecopy(this.ctx, this.state));
  }

  /** The migration is over (completed, interrupted, or out of rounds). */
  get done(): boolean {
    return this.plan === null;
  }

  /** Seconds since the job's start of the last event processed. */
  get now(): number {
    return this.nowS;
  }

  /** What the migration sends under while its bytes are on the wire; null off the wire and once over. */
  get sending(): WireCap | null {
    return this.plan !== null && this.stage === 'wire' ? this.plan.cap : null;
  }

  /** When the next event is due: the stage under way ends or an interrupt comes; Infinity when over or starved. */
  nextS(): number {
    if (this.plan === null) return Infinity;
    const end = this.stageEnd();
    const i = this.interrupts[this.nextInterrupt];
    return i !== undefined && i.atS <= end ? i.atS : end;
  }

  /** Processes the next event (see {@link PrecopyRun.nextS}). */
  advance(): void {
    const plan = this.plan;
    if (plan === null) return;
    const end = this.stageEnd();
    const i = this.interrupts[this.nextInterrupt];
    if (i !== undefined && i.atS <= end) {
      this.nextInterrupt++;
      this.nowS = Math.max(this.nowS, i.atS);
      const pushed = this.stage === 'before' ? 0 : this.stage === 'after' || plan.bytes <= 0 ? 1 : this.wire.sentBy(this.stageStartS, this.nowS, plan.cap) / plan.bytes;
      const out = interruptPrecopy(this.ctx, this.state, i.kind, this.nowS, pushed);
      if (out !== 'carry-on') this.begin(out);
      return;
    }
    if (end === Infinity) throw new Error('the migration cannot advance: its flow gets no bandwidth and nothing interrupts it');
    this.nowS = end;
    if (this.stage === 'wire' && this.state.phase === 'pass') this.state.pass!.transferS += end - this.stageStartS;
    if (this.stage === 'before' && plan.bytes > 0) return this.enter('wire');
    if (this.stage !== 'after' && plan.afterS > 0) return this.enter('after');
    this.begin(this.nextStep());
  }

  /** Runs the migration to its end and returns its result. */
  runToEnd(): MigrationResult {
    while (this.plan !== null) this.advance();
    return this.result();
  }

  /** The result of a migration that is over. */
  result(): MigrationResult {
    if (this.plan !== null) throw new Error('the migration is not over');
    return precopyResult(this.ctx, this.state, this.nowS);
  }

  private stageEnd(): number {
    const p = this.plan!;
    if (this.stage === 'before') return this.stageStartS + p.beforeS;
    if (this.stage === 'after') return this.stageStartS + p.afterS;
    return this.wire.endOf(this.stageStartS, p.bytes, p.cap);
  }

  private enter(stage: Stage): void {
    this.stage = stage;
    this.stageStartS = this.nowS;
  }

  /** Takes a step: its first stage with something to do (a step with nothing to do ends at once). */
  private begin(plan: StepPlan | null): void {
    this.plan = plan;
    if (plan === null) return;
    this.enter(plan.beforeS > 0 ? 'before' : plan.bytes > 0 ? 'wire' : 'after');
  }

  /** The step taken when the one under way is over. */
  private nextStep(): StepPlan | null {
    const { ctx, state: s, nowS } = this;
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
}

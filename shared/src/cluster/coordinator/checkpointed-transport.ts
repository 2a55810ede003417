import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobEnvelope, JobOutcome, JobTransport } from '../fleet/job-transport.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { CHECKPOINT_FILE, ResultsCheckpoint } from './results-checkpoint.js';

/**
 * A transport whose results are checkpointed to the run's output folder and then trimmed from where they came
 * (the run's results hash in Redis), so Redis holds only what is in flight. A job whose result the checkpoint
 * already has (a restarted coordinator) is answered from it and not sent. Results are written to the checkpoint
 * before `trim` is called for them, so a coordinator killed at any point loses none.
 */
export class CheckpointedTransport implements JobTransport {
  private ready: JobOutcome[] = [];
  /** Jobs answered from the checkpoint instead of being sent. */
  jobsFromCheckpoint = 0;

  constructor(
    private readonly inner: JobTransport,
    private readonly checkpoint: ResultsCheckpoint,
    /** Removes results the checkpoint now holds from where the inner transport reads them. */
    private readonly trim: (ids: readonly string[]) => Promise<void>,
  ) {}

  async submit(envelope: JobEnvelope): Promise<void> {
    const result = this.checkpoint.take(envelope.id);
    if (result !== undefined) {
      this.jobsFromCheckpoint++;
      this.ready.push({ id: envelope.id, result });
      return;
    }
    await this.inner.submit(envelope);
  }

  private async keep(outcomes: JobOutcome[]): Promise<JobOutcome[]> {
    if (outcomes.length > 0) {
      this.checkpoint.append(outcomes);
      await this.trim(outcomes.map((o) => o.id));
    }
    return outcomes;
  }

  private takeReady(): JobOutcome[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  async nextResults(): Promise<JobOutcome[]> {
    if (this.ready.length > 0) return this.takeReady();
    return this.keep(await this.inner.nextResults());
  }

  wantsTurn(): boolean {
    return this.ready.length > 0 || (this.inner.wantsTurn?.() ?? false);
  }

  async turn(): Promise<JobOutcome[]> {
    const fromInner = this.inner.turn ? await this.keep(await this.inner.turn()) : [];
    return [...this.takeReady(), ...fromInner];
  }

  async close(): Promise<void> {
    this.checkpoint.close();
    await this.inner.close();
  }
}

/** A transport checkpointed into a folder and trimmed from a run's results hash (`checkpointResults`). */
export interface CheckpointedRun {
  readonly transport: CheckpointedTransport;
  readonly checkpoint: ResultsCheckpoint;
  /** The run completed: deletes the checkpoint and the run's results hash (its outputs hold every result now). */
  finish(): Promise<void>;
}

/**
 * Opens (reading back) the results checkpoint of a run whose outputs go to `dir`: `<dir>/results.checkpoint.ndjson`.
 * Throws CheckpointInvalid for one that cannot be read back.
 */
export function openRunCheckpoint(dir: string): ResultsCheckpoint {
  mkdirSync(dir, { recursive: true });
  return ResultsCheckpoint.open(join(dir, CHECKPOINT_FILE));
}

/**
 * Checkpoints a run's results into `checkpoint` and trims them from its results hash as they arrive (HDEL,
 * `trimChunk` fields at a time): what `Coordinator` and a region's cluster coordinators both do.
 */
export function checkpointResults(inner: JobTransport, o: { readonly checkpoint: ResultsCheckpoint; readonly redis: RedisClient; readonly resultsKey: string; readonly trimChunk: number }): CheckpointedRun {
  const checkpoint = o.checkpoint;
  const transport = new CheckpointedTransport(inner, checkpoint, async (ids) => {
    for (let i = 0; i < ids.length; i += o.trimChunk) await o.redis.hdel(o.resultsKey, ...ids.slice(i, i + o.trimChunk));
  });
  return {
    transport,
    checkpoint,
    async finish() {
      checkpoint.remove();
      // Also what a retried batch wrote again after its results were trimmed.
      await o.redis.del(o.resultsKey);
    },
  };
}

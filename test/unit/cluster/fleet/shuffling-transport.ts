import { EmbeddedTransport } from '../../../../shared/src/cluster/fleet/embedded-transport.js';
import type { JobEnvelope, JobOutcome, JobTransport } from '../../../../shared/src/cluster/fleet/job-transport.js';
import type { Rng } from '../../../../shared/src/engine/rng.js';

/**
 * The embedded transport's results handed out late, as workers may finish them: a random part of those waiting at
 * each call, shuffled, and sometimes delivered twice (a result delivered twice must not count twice).
 */
export class ShufflingTransport implements JobTransport {
  private readonly inner = new EmbeddedTransport();
  private waiting: JobOutcome[] = [];

  constructor(private readonly rng: Rng) {}

  async submit(envelope: JobEnvelope): Promise<void> {
    await this.inner.submit(envelope);
    const ready = await this.inner.nextResults();
    this.waiting.push(...ready);
  }

  async nextResults(): Promise<JobOutcome[]> {
    const shuffled = this.waiting.map((o) => ({ o, key: this.rng.nextFloat() })).sort((a, b) => a.key - b.key);
    const take = 1 + Math.floor(this.rng.nextFloat() * shuffled.length);
    this.waiting = shuffled.slice(take).map((x) => x.o);
    const out = shuffled.slice(0, take).map((x) => x.o);
    // A result delivered twice must not count twice.
    return this.rng.nextFloat() < 0.3 ? [...out, ...out] : out;
  }

  async close(): Promise<void> {}
}

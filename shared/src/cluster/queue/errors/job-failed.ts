/** A job failed for good on a worker (its attempts are spent): the run cannot complete without its result. */
export class JobFailed extends Error {
  override readonly name = 'JobFailed';

  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} failed on a worker: ${reason}`);
  }
}

/** One cluster of a region run could not finish: the region stops, naming the cluster and why. */
export class ClusterRunFailed extends Error {
  override readonly name = 'ClusterRunFailed';

  constructor(
    readonly cluster: string,
    readonly reason: string,
  ) {
    super(`cluster ${cluster}: ${reason}`);
  }
}

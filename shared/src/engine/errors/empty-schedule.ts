/**
 * Thrown by {@link Environment.step} when no event is left to process, and by {@link Environment.run} when the
 * schedule runs empty before the `until` event it was waiting for has been processed.
 */
export class EmptySchedule extends Error {
  constructor(message = 'no scheduled events left') {
    super(message);
    this.name = 'EmptySchedule';
  }
}

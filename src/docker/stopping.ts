// Which containers are on their way out, from kill and stop events. Events can arrive late, twice
// or out of order, so each is weighed by the daemon's own time against the container's latest
// start: a stale kill never takes a running container out of its pool.
import { isRevival, isTerminating, type DockerEvent } from './events.js';

interface Stamp<At> {
  /** Local clock when noted, for the grace period. */
  readonly since: number;
  /** The daemon's time of the event, in nanoseconds. */
  readonly at: At;
}

export class StoppingMarks {
  private readonly marks = new Map<string, Stamp<number | null>>();
  private readonly revivals = new Map<string, Stamp<number>>();

  constructor(
    private readonly graceMs: number,
    private readonly now: () => number,
  ) {}

  note(event: DockerEvent): void {
    const id = event.containerId;
    if (id === null) return;
    if (isTerminating(event)) {
      const revived = this.revivals.get(id)?.at;
      if (event.time !== null && revived !== undefined && event.time <= revived) return;
      this.marks.set(id, { since: this.now(), at: event.time });
    } else if (isRevival(event)) {
      const revived = this.revivals.get(id)?.at;
      if (event.time !== null && (revived === undefined || event.time > revived)) this.revivals.set(id, { since: this.now(), at: event.time });
      const mark = this.marks.get(id);
      if (mark && (event.time === null || mark.at === null || event.time > mark.at)) this.marks.delete(id);
    }
  }

  has(id: string): boolean {
    return this.marks.has(id);
  }

  /**
   * Marks end when the container is gone, or after the grace if it kept running. Start times of
   * gone containers are kept for the grace too, for a stale kill that arrives after a list.
   */
  forget(running: ReadonlySet<string>): void {
    const now = this.now();
    for (const [id, mark] of this.marks) {
      if (!running.has(id) || now - mark.since > this.graceMs) this.marks.delete(id);
    }
    for (const [id, revival] of this.revivals) {
      if (!running.has(id) && now - revival.since > this.graceMs) this.revivals.delete(id);
    }
  }
}

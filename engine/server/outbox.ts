// One client's outgoing events. Each run's step events go out at most `rate` per second: between sends
// only the run's newest is kept, and it says how many it replaced. A run's state event never overtakes
// its held step (a step sent after its run's 'stopped' would read as training again). Nothing is sent while the socket's own buffer is
// over `maxBuffered` (a slow reader), and the queue of other events is bounded, so a slow client costs
// the engine a fixed amount of memory however long it lags.
import type { EngineEvent } from '../protocol';

type StepEvent = Extract<EngineEvent, { event: 'step' }>;

export interface OutboxOptions {
  /** Step events per second of each run, at most. */
  rate: number;
  /** Bytes the socket may hold unsent before the outbox waits. */
  maxBuffered: number;
  /** Other events (state, validation, log) kept while waiting; the oldest go first. */
  maxQueued: number;
}

export const DEFAULT_OUTBOX: OutboxOptions = { rate: 20, maxBuffered: 1 << 20, maxQueued: 256 };

/** A run's newest step not yet sent, with the count of the steps it replaced. */
interface HeldStep {
  event: StepEvent;
  coalesced: number;
}

export class Outbox {
  /** By run: runs side by side (an experiment's) each keep their own. */
  private readonly held = new Map<string, HeldStep>();
  private readonly lastStepSent = new Map<string, number>();
  private readonly queue: EngineEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Events dropped from a full queue, reported in the next log event. */
  private droppedEvents = 0;

  constructor(
    private readonly send: (message: string) => void,
    private readonly buffered: () => number,
    private readonly options: OutboxOptions = DEFAULT_OUTBOX,
  ) {}

  push(event: EngineEvent): void {
    if (event.event === 'step') {
      const before = this.held.get(event.runId);
      this.held.set(event.runId, { event, coalesced: before ? before.coalesced + 1 + before.event.coalesced : 0 });
    } else {
      const step = event.event === 'state' && this.held.get(event.runId);
      if (step) {
        this.held.delete(step.event.runId);
        this.enqueue(stepMessage(step));
      }
      this.enqueue(event);
    }
    this.flush();
  }

  private enqueue(event: EngineEvent): void {
    if (this.queue.length >= this.options.maxQueued) {
      this.queue.shift();
      this.droppedEvents++;
    }
    this.queue.push(event);
  }

  /** Sends everything still held at once, whatever the rate and the socket's buffer: before a close. */
  drain(): void {
    this.flush(true);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.held.clear();
    this.queue.length = 0;
  }

  /** Sends what it may now, and sets a timer for the rest. */
  private flush(force = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!force && this.buffered() > this.options.maxBuffered) return this.retryIn(20);
    if (this.droppedEvents > 0) {
      this.send(JSON.stringify({ type: 'event', event: 'log', level: 'warn', message: `${this.droppedEvents} events were dropped: this client reads too slowly` }));
      this.droppedEvents = 0;
    }
    while (this.queue.length) this.send(JSON.stringify(this.queue.shift()));
    let wait = Infinity;
    for (const [runId, step] of this.held) {
      const due = (this.lastStepSent.get(runId) ?? -Infinity) + 1000 / this.options.rate - performance.now();
      if (!force && due > 0) {
        wait = Math.min(wait, due);
        continue;
      }
      this.send(JSON.stringify(stepMessage(step)));
      this.held.delete(runId);
      this.lastStepSent.set(runId, performance.now());
    }
    if (wait < Infinity) this.retryIn(wait);
  }

  private retryIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }
}

function stepMessage({ event, coalesced }: HeldStep): StepEvent {
  return { ...event, coalesced: event.coalesced + coalesced };
}

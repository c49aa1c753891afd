// One client's outgoing events. Step events go out at most `rate` per second: between sends only the
// newest is kept, and it says how many it replaced. Nothing is sent while the socket's own buffer is
// over `maxBuffered` (a slow reader), and the queue of other events is bounded, so a slow client costs
// the engine a fixed amount of memory however long it lags.
import type { EngineEvent } from '../protocol';

type StepEvent = Extract<EngineEvent, { event: 'step' }>;

export interface OutboxOptions {
  /** Step events per second, at most. */
  rate: number;
  /** Bytes the socket may hold unsent before the outbox waits. */
  maxBuffered: number;
  /** Other events (state, validation, log) kept while waiting; the oldest go first. */
  maxQueued: number;
}

export const DEFAULT_OUTBOX: OutboxOptions = { rate: 20, maxBuffered: 1 << 20, maxQueued: 256 };

export class Outbox {
  private pendingStep: StepEvent | null = null;
  private coalesced = 0;
  private readonly queue: EngineEvent[] = [];
  private lastStepSent = 0;
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
      if (this.pendingStep) this.coalesced += 1 + this.pendingStep.coalesced;
      this.pendingStep = event;
    } else {
      if (this.queue.length >= this.options.maxQueued) {
        this.queue.shift();
        this.droppedEvents++;
      }
      this.queue.push(event);
    }
    this.flush();
  }

  /** Sends everything still held at once, whatever the rate and the socket's buffer: before a close. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush(true);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pendingStep = null;
    this.queue.length = 0;
  }

  /** Sends what it may now, and sets a timer for the rest. */
  private flush(force = false): void {
    if (this.timer) return;
    if (!force && this.buffered() > this.options.maxBuffered) return this.retryIn(20);
    if (this.droppedEvents > 0) {
      this.send(JSON.stringify({ type: 'event', event: 'log', level: 'warn', message: `${this.droppedEvents} events were dropped: this client reads too slowly` }));
      this.droppedEvents = 0;
    }
    while (this.queue.length) this.send(JSON.stringify(this.queue.shift()));
    if (!this.pendingStep) return;
    const wait = this.lastStepSent + 1000 / this.options.rate - performance.now();
    if (!force && wait > 0) return this.retryIn(wait);
    this.send(JSON.stringify({ ...this.pendingStep, coalesced: this.pendingStep.coalesced + this.coalesced }));
    this.pendingStep = null;
    this.coalesced = 0;
    this.lastStepSent = performance.now();
  }

  private retryIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }
}

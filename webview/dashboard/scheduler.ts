// Batches redraws: charts marked dirty are redrawn on animation frames, one chart per frame, the
// one dirty the longest first. A burst of live steps thus costs one redraw per chart, spread over
// frames. A whole new picture (init, restore, theme, layer) is marked `all` and drawn in one frame.
// DOM-free apart from the frame callback it is given.

export type FrameRequest = (callback: () => void) => unknown;

export class FrameScheduler<K> {
  /** Insertion order = the order in which keys became dirty. */
  private readonly dirty = new Set<K>();
  private scheduled = false;
  private drawAllNext = false;

  constructor(
    private readonly draw: (key: K) => void,
    private readonly requestFrame: FrameRequest,
  ) {}

  /** Marks charts dirty; with `all`, the next frame draws everything dirty instead of one chart. */
  mark(keys: Iterable<K>, all = false): void {
    for (const k of keys) this.dirty.add(k);
    if (all) this.drawAllNext = true;
    this.schedule();
  }

  get pending(): number {
    return this.dirty.size;
  }

  isDirty(key: K): boolean {
    return this.dirty.has(key);
  }

  /** Draws everything dirty now (tests, and before the page is hidden). */
  flushAll(): void {
    this.drawAllNext = false;
    while (this.dirty.size) this.step();
  }

  private schedule(): void {
    if (this.scheduled || !this.dirty.size) return;
    this.scheduled = true;
    this.requestFrame(() => {
      this.scheduled = false;
      if (this.drawAllNext) this.flushAll();
      else this.step();
      this.schedule();
    });
  }

  private step(): void {
    const first = this.dirty.values().next();
    if (first.done) return;
    this.dirty.delete(first.value);
    this.draw(first.value);
  }
}

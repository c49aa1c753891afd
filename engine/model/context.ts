// What one forward pass needs besides its inputs: train or eval mode, and deterministic seeds for
// its random draws (dropout, jitter), so that a step can be replayed bit for bit after a resume.

export class ForwardContext {
  private counter = 0;

  constructor(
    readonly training: boolean,
    /** Derived from the run's seed and the step number. */
    private readonly seed = 0,
  ) {}

  /** A fresh seed for the next random op in this pass. */
  nextSeed(): number {
    // splitmix-style mixing keeps seeds of consecutive ops and steps far apart.
    let z = (this.seed + 0x9e3779b9 * ++this.counter) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    // tfjs treats a seed of 0 as "no seed" and draws from Math.random instead.
    return (z ^ (z >>> 16)) >>> 0 || 1;
  }

  static forStep(runSeed: number, step: number, training = true): ForwardContext {
    return new ForwardContext(training, (Math.imul(runSeed >>> 0, 0x01000193) ^ step) >>> 0);
  }

  /**
   * Micro-batch `i` of a training step draws from a stream of its own: how many seeds a pass draws
   * depends on its data (expert dropout draws one per expert that got tokens), so a data-parallel
   * replica could not know where micro-batch i would start in one shared stream. Micro-batch 0's
   * stream is the step's, so a step of one micro-batch is what it was before micro-batches existed.
   */
  static forMicroBatch(runSeed: number, step: number, i: number): ForwardContext {
    const base = (Math.imul(runSeed >>> 0, 0x01000193) ^ step) >>> 0;
    return new ForwardContext(true, i === 0 ? base : (base + Math.imul(i, 0x7feb352d)) >>> 0);
  }
}

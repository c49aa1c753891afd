// xoshiro128** PRNG. Its whole state is four uint32 words, so a training
// checkpoint can store it as JSON and a resumed run continues the exact stream.

export type RngState = [number, number, number, number];

// splitmix32 spreads a small seed over all state bits (xoshiro needs a non-zero state).
function splitmix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [next, (z ^ (z >>> 15)) >>> 0];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Rng {
  private s: RngState;

  constructor(seed: number) {
    let x = seed | 0;
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [nextX, out] = splitmix32(x);
      x = nextX;
      s.push(out);
    }
    this.s = s as RngState;
  }

  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}`);
    }
    if (state.every((v) => v === 0)) throw new Error('invalid RNG state: all zero');
    const rng = new Rng(0);
    rng.s = [...state];
    return rng;
  }

  state(): RngState {
    return [...this.s];
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    for (let i = 0; i < 4; i++) s[i] >>>= 0;
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n); rejection sampling keeps it unbiased. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new RangeError(`nextInt(${n})`);
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** Combines a seed with stream labels (e.g. epoch) into a new seed, so sub-streams are independent. */
export function deriveSeed(seed: number, ...labels: number[]): number {
  let h = seed | 0;
  for (const label of labels) h = splitmix32(h ^ Math.imul(label | 0, 0x85ebca6b))[1];
  return h;
}

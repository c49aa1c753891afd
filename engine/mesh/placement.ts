// Which experts each data-parallel device holds. The paper spreads the experts over the data
// dimension of the mesh (Section 5.4). E >= n: device d holds the E/n consecutive experts starting
// at d*E/n. E < n: each expert is copied on n/E consecutive devices, and its tokens and capacity
// slots are shared out evenly among the copies, as if each copy served its own part of the batch.
// Any other ratio would leave a device with part of an expert, so it is refused.
import { ConfigError } from '../model/config';

export interface Placement {
  /** Experts on each data-parallel device: E/n, or 1 when experts are copied. */
  expertsPerDevice: number;
  /** Copies of each expert along the data dimension: n/E, or 1 when E >= n. */
  copies: number;
}

export function expertPlacement(numExperts: number, data: number): Placement {
  if (numExperts % data === 0) return { expertsPerDevice: numExperts / data, copies: 1 };
  if (data % numExperts === 0) return { expertsPerDevice: 1, copies: data / numExperts };
  throw new ConfigError([
    {
      field: 'shape.data',
      message: `${numExperts} experts cannot be spread over ${data} data-parallel devices: numExperts must be a multiple or a divisor of shape.data`,
    },
  ]);
}

/** The experts held by data-parallel device `d`. */
export function deviceExperts(p: Placement, d: number): number[] {
  const first = Math.floor(d / p.copies) * p.expertsPerDevice;
  return Array.from({ length: p.expertsPerDevice }, (_, i) => first + i);
}

/** Which copy of its experts device `d` holds (0 when experts are not copied). */
export function copyIndex(p: Placement, d: number): number {
  return d % p.copies;
}

/** Copy `copy`'s part of `count` shared out evenly over `copies`; the first copies take the remainder. */
export function shareOf(count: number, copies: number, copy: number): number {
  return Math.floor(count / copies) + (copy < count % copies ? 1 : 0);
}

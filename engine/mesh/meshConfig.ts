// The simulated hardware: a (data x model) mesh of devices as in the paper's Section 5 and Mesh
// TensorFlow, and what one device can compute and send. Validated with zod so that a bad mesh is
// refused with the field named.
import { z } from 'zod';
import { configError } from '../model/config';
import { expertPlacement } from './placement';

const devices = z.number().int().min(1, { error: 'needs at least 1 device' });
const positive = z.number().positive();

export const meshShapeSchema = z
  .object({
    /** Devices that split the batch; the experts are spread over them. */
    data: devices,
    /** Devices that split each expert's dFf (and hold the same tokens). */
    model: devices,
  })
  .strict();
export type MeshShape = z.infer<typeof meshShapeSchema>;

export const meshConfigSchema = z
  .object({
    shape: meshShapeSchema,
    /** Peak FLOP/s of one device. */
    deviceFlops: positive,
    /** Bytes/s one device sends (and, at once, receives) in a collective. */
    linkBandwidth: positive,
    /** Seconds each collective costs on top of its bytes (launch and synchronisation). */
    linkLatency: z.number().min(0),
    /** Bytes per activation value sent: 2 for bfloat16. */
    bytesPerValue: positive,
    /** Count the backward pass too: the simulated steps are training steps. */
    backward: z.boolean(),
  })
  .strict();
export type MeshConfig = z.infer<typeof meshConfigSchema>;

/**
 * A TPU v3-8-like mesh: 8 cores (4 chips of 2 TensorCores), all data-parallel. Estimates, not
 * measurements:
 * - deviceFlops: 123 TFLOP/s bf16 peak per chip, 2 TensorCores per chip (Cloud TPU v3 docs).
 * - linkBandwidth: one ICI link, 656 Gbit/s = 82 GB/s (Jouppi et al. 2020, "A Domain-Specific
 *   Supercomputer for Training Deep Neural Networks"). An all-to-all over a large torus is bound
 *   by its bisection instead (6.4 TB/s for a 1024-chip pod, ~6 GB/s per core): lower it for
 *   large meshes.
 * - linkLatency: 10 us per collective, an assumed order of magnitude.
 */
export const DEFAULT_MESH_CONFIG: MeshConfig = {
  shape: { data: 8, model: 1 },
  deviceFlops: 61.5e12,
  linkBandwidth: 82e9,
  linkLatency: 10e-6,
  bytesPerValue: 2,
  backward: true,
};

/** Validates `raw`, and that `numExperts` (when given) can be spread over its data dimension. */
export function parseMeshConfig(raw: unknown, numExperts?: number): MeshConfig {
  const result = meshConfigSchema.safeParse(raw);
  if (!result.success) throw configError(result.error);
  if (numExperts !== undefined) expertPlacement(numExperts, result.data.shape.data);
  return result.data;
}

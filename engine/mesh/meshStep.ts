// What the mesh simulation reports for one training step: plain numbers and arrays, so that it can
// be streamed with the step's metrics and drawn as a grid of devices. A schema, so the protocol can
// check what it receives.
import { z } from 'zod';
import { meshShapeSchema } from './meshConfig';

const count = z.number().int().min(0);
const amount = z.number().min(0);
const fraction = z.number().min(0).max(1);

export const meshDeviceSchema = z.object({
  /** Position in the mesh: data row and model column. */
  data: count,
  model: count,
  /** Experts this device holds (a 1/model slice of each one's dFf). */
  experts: z.array(count),
  /** Tokens its experts processed. The model columns of a data row hold the same tokens. */
  tokens: count,
  /** Capacity slots its experts have. */
  slots: count,
  /** tokens / slots (0 without slots). */
  utilization: fraction,
  /** 1 - computeTime / the layer's slowest computeTime (0 when no device computes). */
  idleFraction: fraction,
  /** Tokens routed to its experts past their capacity. */
  dropped: count,
  /** Bytes handed to and received from the layer's all-to-alls (dispatch, combine; and their backward). */
  sentBytes: amount,
  receivedBytes: amount,
  /** Bytes of partial expert outputs all-reduced over the model dimension (0 when model = 1). */
  allReduceBytes: amount,
  /** Seconds, at peak FLOP/s, on the expert FLOPs of its tokens. */
  computeTime: amount,
  /** Seconds in this layer's collectives. */
  commTime: amount,
});
export type MeshDevice = z.infer<typeof meshDeviceSchema>;

export const meshLayerSchema = z.object({
  layer: z.string(),
  numExperts: count,
  capacity: count,
  /** One all-to-all in one direction, summed over a model column's devices: E x C x dModel x bytesPerValue. */
  allToAllBytes: amount,
  /** Slowest device's compute, and slowest device's communication, seconds. */
  computeTime: amount,
  commTime: amount,
  /** computeTime + commTime: each phase waits for its slowest device, and they do not overlap. */
  time: amount,
  /** [data x model] devices, data-major: device (d, j) is at d * model + j. */
  devices: z.array(meshDeviceSchema),
});
export type MeshLayer = z.infer<typeof meshLayerSchema>;

export const meshStepSchema = z.object({
  shape: meshShapeSchema,
  /** Whether times and bytes include the backward pass. */
  backward: z.boolean(),
  layers: z.array(meshLayerSchema),
  /** Sum of the layers' times, seconds. */
  time: amount,
  /** Expert FLOPs of the processed tokens, over all layers. */
  usefulFlops: amount,
  /** usefulFlops / (devices x deviceFlops x time): the share of the mesh's peak spent on real tokens. */
  meshUtilization: fraction,
});
export type MeshStep = z.infer<typeof meshStepSchema>;

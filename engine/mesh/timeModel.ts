// How long a device computes and how long a collective takes: peak FLOP/s, and bytes over the link
// plus a fixed latency. Simple on purpose, so every figure can be checked by hand.
import type { MeshConfig } from './meshConfig';

/** FLOPs of an expert's forward pass over `tokens` tokens: two matmuls (dModel->dFf->dModel), 2 FLOPs per multiply-add. */
export function expertFlops(tokens: number, dModel: number, dFf: number): number {
  return 2 * 2 * tokens * dModel * dFf;
}

/** Backward costs twice the forward (gradients of the inputs and of the weights). */
export function flopsPerForwardFlop(mesh: MeshConfig): number {
  return mesh.backward ? 3 : 1;
}

/** Each collective of the forward pass has a mirror in the backward pass (the gradient of an all-to-all is an all-to-all). */
export function passes(mesh: MeshConfig): number {
  return mesh.backward ? 2 : 1;
}

/** Seconds for `flops` FLOPs on one device at peak. */
export function computeTime(flops: number, mesh: MeshConfig): number {
  return flops / mesh.deviceFlops;
}

/**
 * Seconds for an all-to-all among `parties` devices in which a device hands over `bytes`: the
 * 1/parties addressed to itself stays put. One device alone does no collective at all.
 */
export function allToAllTime(bytes: number, parties: number, mesh: MeshConfig): number {
  if (parties <= 1) return 0;
  return (bytes * (parties - 1)) / parties / mesh.linkBandwidth + mesh.linkLatency;
}

/** Seconds for a ring all-reduce of `bytes` among `parties` devices: each sends 2 (parties-1)/parties of it. */
export function allReduceTime(bytes: number, parties: number, mesh: MeshConfig): number {
  if (parties <= 1) return 0;
  return (2 * bytes * (parties - 1)) / parties / mesh.linkBandwidth + mesh.linkLatency;
}

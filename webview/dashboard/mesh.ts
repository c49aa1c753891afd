// The mesh views of a step: one layer's devices as a (data rows x model columns) grid colored by
// utilization, and per layer the all-to-all bytes and compute vs communication time. DOM-free.
import type { MeshDevice, MeshLayer, MeshStep } from '../../engine/mesh/meshStep';

export interface MeshCell {
  /** Model column. */
  x: number;
  /** Data row. */
  y: number;
  /** Utilization, 0..1. */
  v: number;
  device: MeshDevice;
}

export interface MeshGrid {
  layer: MeshLayer;
  rows: number;
  cols: number;
  cells: MeshCell[];
}

/** The mesh layer named `layer`, else the one at `fallbackIndex`, else the first. */
export function findMeshLayer(mesh: MeshStep, layer: string | null, fallbackIndex = 0): MeshLayer | null {
  return mesh.layers.find((l) => l.layer === layer) ?? mesh.layers[fallbackIndex] ?? mesh.layers[0] ?? null;
}

export function meshGrid(mesh: MeshStep, layer: string | null, fallbackIndex = 0): MeshGrid | null {
  const l = findMeshLayer(mesh, layer, fallbackIndex);
  if (!l) return null;
  const rows = mesh.shape.data;
  const cols = mesh.shape.model;
  // Devices are data-major, but each carries its position: trust the position.
  const cells = l.devices.map((d) => ({ x: d.model, y: d.data, v: d.utilization, device: d }));
  return { layer: l, rows: Math.max(rows, ...cells.map((c) => c.y + 1)), cols: Math.max(cols, ...cells.map((c) => c.x + 1)), cells };
}

export interface CommBars {
  labels: string[];
  /** One all-to-all, bytes, per layer. */
  allToAllBytes: number[];
  /** Slowest device's compute, seconds, per layer. */
  computeTime: number[];
  /** Slowest device's communication, seconds, per layer. */
  commTime: number[];
}

export function commBars(mesh: MeshStep): CommBars {
  return {
    labels: mesh.layers.map((l) => l.layer),
    allToAllBytes: mesh.layers.map((l) => l.allToAllBytes),
    computeTime: mesh.layers.map((l) => l.computeTime),
    commTime: mesh.layers.map((l) => l.commTime),
  };
}

/** Share of the step's time spent communicating, 0..1. */
export function commShare(mesh: MeshStep): number {
  const comm = mesh.layers.reduce((s, l) => s + l.commTime, 0);
  const total = mesh.layers.reduce((s, l) => s + l.computeTime + l.commTime, 0);
  return total > 0 ? comm / total : 0;
}

// Plays one training step's sparse layers on a (data x model) device mesh, from the step's real
// routing: how full each device's capacity slots are, how long it computes and then waits for the
// slowest, and what the all-to-alls cost. It follows Mesh TensorFlow's Switch layer (paper Section 5):
// - Dispatch and combine each move the capacity-padded [E, C, dModel] buffer, whatever the routing.
//   The batch is spread evenly over the data rows, so a device hands over E*C/n rows of it and
//   receives the rows of its experts' slots; combine is the mirror image.
// - Compute counts only the tokens processed. A dense einsum computes the empty slots as well; on
//   such hardware, utilization is the share of that work spent on real tokens.
// - model = m > 1 splits each expert's dFf over the m devices of a data row, which hold the same
//   tokens (paper Figure 9): compute divides by m, but every model column still runs its own
//   all-to-all of the whole buffer (m copies in all), and the partial expert outputs are summed by
//   an all-reduce over the row before combine.
import type { LayerMetrics } from '../train/metrics';
import type { MeshConfig } from './meshConfig';
import type { MeshDevice, MeshLayer, MeshStep } from './meshStep';
import { copyIndex, deviceExperts, expertPlacement, shareOf } from './placement';
import { allReduceTime, allToAllTime, computeTime, expertFlops, flopsPerForwardFlop, passes } from './timeModel';

export interface ExpertShape {
  dModel: number;
  dFf: number;
}

/** What the mesh needs of a layer: its capacity and kept counts (a record without them has no mesh). */
export type MeshInput = Pick<LayerMetrics, 'layer' | 'numExperts' | 'capacity' | 'routed' | 'kept'>;

export function simulateMeshStep(layers: readonly MeshInput[], model: ExpertShape, mesh: MeshConfig): MeshStep {
  const simulated = layers.map((l) => simulateLayer(l, model, mesh));
  const time = sum(simulated.map((l) => l.time));
  const usefulFlops = sum(layers.map((l) => expertFlops(sum(l.kept), model.dModel, model.dFf))) * flopsPerForwardFlop(mesh);
  const peak = mesh.shape.data * mesh.shape.model * mesh.deviceFlops * time;
  return {
    shape: { ...mesh.shape },
    backward: mesh.backward,
    layers: simulated,
    time,
    usefulFlops,
    // min: a perfectly balanced step may round a hair above 1.
    meshUtilization: peak > 0 ? Math.min(1, usefulFlops / peak) : 0,
  };
}

function simulateLayer(l: MeshInput, model: ExpertShape, mesh: MeshConfig): MeshLayer {
  const { data: n, model: m } = mesh.shape;
  const placement = expertPlacement(l.numExperts, n);
  const rowBytes = model.dModel * mesh.bytesPerValue; // one token's activations
  const handedOver = ((l.numExperts * l.capacity) / n) * rowBytes; // this device's share of the buffer
  const rows = Array.from({ length: n }, (_, d) => {
    const experts = deviceExperts(placement, d);
    const copy = copyIndex(placement, d);
    const part = (perExpert: (e: number) => number) => sum(experts.map((e) => shareOf(perExpert(e), placement.copies, copy)));
    const tokens = part((e) => l.kept[e]);
    const slots = part(() => l.capacity);
    const slotBytes = slots * rowBytes; // received by dispatch, sent by combine; also the all-reduced outputs
    return {
      experts,
      tokens,
      slots,
      dropped: part((e) => l.routed[e] - l.kept[e]),
      allToAllBytes: passes(mesh) * (handedOver + slotBytes),
      allReduceBytes: m > 1 ? passes(mesh) * slotBytes : 0,
      computeTime: computeTime(expertFlops(tokens, model.dModel, model.dFf / m) * flopsPerForwardFlop(mesh), mesh),
      commTime:
        passes(mesh) * (2 * allToAllTime(Math.max(handedOver, slotBytes), n, mesh) + allReduceTime(slotBytes, m, mesh)),
    };
  });
  const slowest = Math.max(...rows.map((r) => r.computeTime));
  const devices: MeshDevice[] = rows.flatMap((r, d) =>
    Array.from({ length: m }, (_, j) => ({
      data: d,
      model: j,
      experts: r.experts,
      tokens: r.tokens,
      slots: r.slots,
      utilization: r.slots > 0 ? r.tokens / r.slots : 0,
      idleFraction: slowest > 0 ? 1 - r.computeTime / slowest : 0,
      dropped: r.dropped,
      sentBytes: r.allToAllBytes,
      receivedBytes: r.allToAllBytes,
      allReduceBytes: r.allReduceBytes,
      computeTime: r.computeTime,
      commTime: r.commTime,
    })),
  );
  const commTime = Math.max(...rows.map((r) => r.commTime));
  return {
    layer: l.layer,
    numExperts: l.numExperts,
    capacity: l.capacity,
    allToAllBytes: l.numExperts * l.capacity * rowBytes,
    computeTime: slowest,
    commTime,
    time: slowest + commTime,
    devices,
  };
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

"""The probe: forward hooks on the routers sum, on the device, what each sparse layer did during the
steps to be logged; probe.step() closes a step, all-reduces the sums once (one collective for all
layers) over the data-parallel group when torch.distributed is initialised, and rank 0 writes one
record to metrics.jsonl. Only data-parallel ranks see different tokens: tensor-parallel ranks route
the same ones, so summing over the whole world would count each token once per tensor-parallel rank."""
import atexit
import math
import time

import torch
import torch.distributed as dist

from .discovery import find_routers
from .stats import layer_record
from .writer import RunWriter, time_ms

__version__ = "0.1.0"


def _distributed():
    return dist.is_available() and dist.is_initialized()


def data_parallel_group(group=None):
    """The process group the counts are summed over: `group` if given; else Megatron-Core's
    data-parallel group (with context parallelism: its ranks see different tokens too) when its
    parallel_state is importable and initialised; else None, the whole world."""
    if group is not None:
        return group
    try:
        from megatron.core import parallel_state
    except ImportError:
        return None
    if not parallel_state.model_parallel_is_initialized():
        return None
    try:
        return parallel_state.get_data_parallel_group(with_context_parallel=True)
    except TypeError:  # an older Megatron-Core without context parallelism
        return parallel_state.get_data_parallel_group()


def _scalar(x):
    if x is None:
        return None
    v = float(x.detach().float().sum()) if torch.is_tensor(x) else float(x)
    return v if math.isfinite(v) else None


class Probe:
    def __init__(self, model, folder, every=10, routers=None, top_k=None, total_steps=0, source=None, group=None):
        if every < 1:
            raise ValueError("switchyard_probe: every must be ≥ 1")
        self.specs = find_routers(model, routers, top_k)
        self.every, self.total_steps = every, total_steps
        self.rank = dist.get_rank() if _distributed() else 0
        self.group = data_parallel_group(group) if _distributed() else None
        self._sums = {}  # spec name -> [3E + 3] float64 on the router's device: routed, kept, prob sums, entropy, tokens, capacity
        self._kept_seen = set()
        self._aux = 0.0
        self._hook_seconds = 0.0
        self._recording = True  # the first step closed is always recorded, then every `every`-th
        self._last_step = 0
        self._handles = []
        for spec in self.specs:
            self._hook(spec)
        self._backend = "pytorch-probe (torch %s)" % torch.__version__
        self.writer = None
        if self.rank == 0:
            self.writer = RunWriter(folder, [s.config() for s in self.specs], source, __version__)
            self.writer.status("running", 0, total_steps, self._backend)
            atexit.register(self._at_exit)

    # ---- hooks --------------------------------------------------------------------------------
    def _hook(self, spec):
        if spec.kind == "deepspeed":
            # TopKGate: logits from its `wg` linear; kept slots and l_aux from its own output.
            self._handles.append(spec.module.wg.register_forward_hook(lambda m, i, out: self._logits(spec, out)))
            self._handles.append(spec.module.register_forward_hook(lambda m, i, out: self._deepspeed(spec, out)))
        elif spec.kind == "switch":
            self._handles.append(spec.module.register_forward_hook(lambda m, i, out: self._switch(spec, out)))
        else:
            self._handles.append(spec.module.register_forward_hook(lambda m, i, out: self._logits(spec, out)))

    def _acc(self, spec, device):
        s = self._sums.get(spec.name)
        if s is None:
            s = self._sums[spec.name] = torch.zeros(3 * spec.num_experts + 3, dtype=torch.float64, device=device)
        return s

    def _logits(self, spec, out):
        if not self._recording:
            return
        t0 = time.perf_counter()
        with torch.no_grad():
            logits = out if torch.is_tensor(out) else out[0]
            logits = logits.detach().reshape(-1, spec.num_experts).float()  # [T, E]
            e = spec.num_experts
            log_p = torch.log_softmax(logits, dim=-1)
            p = log_p.exp()
            choice = logits.topk(spec.top_k, dim=-1).indices.reshape(-1)  # [T·k]
            s = self._acc(spec, logits.device)
            s[:e] += torch.bincount(choice, minlength=e).double()
            s[2 * e : 3 * e] += p.sum(0).double()
            s[3 * e] += -(p * log_p).sum().double()
            s[3 * e + 1] += logits.shape[0]
        self._hook_seconds += time.perf_counter() - t0

    def _switch(self, spec, out):
        # (router_mask [B, S, E] one-hot after capacity, router_probs [B, S, 1], router_logits [B, S, E])
        if not self._recording:
            return
        self._logits(spec, out[2])
        t0 = time.perf_counter()
        with torch.no_grad():
            mask = out[0].detach()
            e = spec.num_experts
            s = self._acc(spec, mask.device)
            s[e : 2 * e] += mask.reshape(-1, e).sum(0).double()
            # HF applies expert_capacity per sequence (group): B groups this forward.
            s[3 * e + 2] += spec.capacity * (mask.shape[0] if mask.dim() == 3 else 1)
            self._kept_seen.add(spec.name)
        self._hook_seconds += time.perf_counter() - t0

    def _deepspeed(self, spec, out):
        # (l_aux, combine_weights [S, E, C], dispatch_mask [S, E, C], exp_counts [E])
        if not self._recording:
            return
        t0 = time.perf_counter()
        with torch.no_grad():
            dispatch = out[2].detach()
            e = spec.num_experts
            s = self._acc(spec, dispatch.device)
            s[e : 2 * e] += dispatch.reshape(dispatch.shape[0], e, -1).sum(dim=(0, 2)).double()
            s[3 * e + 2] += dispatch.shape[-1]
            self._kept_seen.add(spec.name)
            self._aux += _scalar(out[0]) or 0.0
        self._hook_seconds += time.perf_counter() - t0

    # ---- steps --------------------------------------------------------------------------------
    def step(self, step, loss=None, aux_loss=None, z_loss=None, learning_rate=None, tokens=None):
        """Closes training step `step`. Losses may be tensors or numbers (rank 0's are written)."""
        if not self._recording:
            self._last_step = step
            self._recording = (step + 1) % self.every == 0
            return
        t0 = time.perf_counter()
        device = next((s.device for s in self._sums.values()), torch.device("cpu"))
        parts = [self._sums.get(spec.name) for spec in self.specs]
        flat = torch.cat([p if p is not None else torch.zeros(3 * sp.num_experts + 3, dtype=torch.float64, device=device) for p, sp in zip(parts, self.specs)])
        kept_flags = torch.tensor([1.0 if sp.name in self._kept_seen else 0.0 for sp in self.specs], dtype=torch.float64, device=flat.device)
        flat = torch.cat([flat.to(device), kept_flags.to(device)])
        if _distributed():
            dist.all_reduce(flat, group=self.group)  # one collective for every layer, over data-parallel ranks
        values = flat.cpu().tolist()
        self._sums.clear()
        self._kept_seen.clear()
        if self.writer is not None:
            self._write(step, values, loss, aux_loss, z_loss, learning_rate, tokens, t0)
        self._aux = 0.0
        self._hook_seconds = 0.0
        self._last_step = step
        self._recording = (step + 1) % self.every == 0

    def _write(self, step, values, loss, aux_loss, z_loss, learning_rate, tokens, t0):
        layers, off = [], 0
        flags = values[-len(self.specs) :]
        for i, spec in enumerate(self.specs):
            e = spec.num_experts
            v = values[off : off + 3 * e + 3]
            off += 3 * e + 3
            kept = v[e : 2 * e] if flags[i] > 0 else None
            record = layer_record(spec, v[:e], kept, v[3 * e], v[2 * e : 3 * e], v[3 * e + 1])
            if kept is not None:
                record["capacity"] = int(round(v[3 * e + 2]))
            layers.append(record)
        rec = {"type": "step", "step": int(step), "time": time_ms(), "layers": layers}
        aux = _scalar(aux_loss) if aux_loss is not None else (self._aux if any(s.kind == "deepspeed" for s in self.specs) else None)
        for key, value in (("loss", _scalar(loss)), ("auxLoss", aux), ("zLoss", _scalar(z_loss)), ("learningRate", _scalar(learning_rate))):
            if value is not None:
                rec[key] = value
        if tokens is not None:
            rec["tokens"] = int(tokens)
        rec["probeSeconds"] = self._hook_seconds + (time.perf_counter() - t0)
        self.writer.append(rec)
        self.writer.status("running", int(step), self.total_steps, self._backend)

    def close(self, state="completed"):
        for h in self._handles:
            h.remove()
        self._handles = []
        if self.writer is not None and not self.writer._metrics.closed:
            self.writer.status(state, int(self._last_step), self.total_steps, self._backend)
            self.writer.close()

    def _at_exit(self):
        # A script that ends without close() (an exception): the run stopped where it was.
        self.close("stopped")


def attach(model, folder, every=10, routers=None, top_k=None, total_steps=0, source=None, group=None):
    """Hooks the routers of `model` and returns a Probe writing the run folder `folder`.
    routers: {module name: k} to name routers by hand; top_k: k of gate-style blocks without one;
    group: the data-parallel process group to sum counts over (with tensor parallelism; Megatron-Core's
    is found by itself), default the whole world."""
    return Probe(model, folder, every, routers, top_k, total_steps, source, group)

"""Measures the probe's cost per logged step: python3 bench.py (CPU; a model of 8 experts, d 256,
4096 tokens a step, Mixtral-style top-2 and a Switch top-1 layer). Prints ms per step with and
without the probe and the probe's own seconds as written in its records."""
import json
import os
import tempfile
import time

import torch
import torch.nn.functional as F

import switchyard_probe
from tests.moe_models import TinyMoE


def run(steps, probe_every=None):
    torch.manual_seed(0)
    model = TinyMoE(vocab=512, d_model=256, num_experts=8, expert_capacity=80)
    opt = torch.optim.SGD(model.parameters(), lr=1e-2)
    folder = os.path.join(tempfile.mkdtemp(), "bench")
    probe = switchyard_probe.attach(model, folder, every=probe_every) if probe_every else None
    tokens = torch.randint(0, 512, (16, 256))
    times = []
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(tokens).reshape(-1, 512), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if probe:
            probe.step(step, loss=loss)
        times.append(time.perf_counter() - t0)
    if probe:
        probe.close()
        with open(os.path.join(folder, "metrics.jsonl")) as f:
            own = [json.loads(line)["probeSeconds"] for line in f]
        return times, own
    return times, []


if __name__ == "__main__":
    torch.set_num_threads(1)
    base, _ = run(20)
    logged, own = run(20, probe_every=1)
    ms = lambda xs: 1000 * sorted(xs)[len(xs) // 2]
    print("step without probe: %.1f ms (median); every step logged: %.1f ms; probe's own time per logged step: %.2f ms (median of %d)" % (ms(base[2:]), ms(logged[2:]), ms(own[2:]), len(own) - 2))

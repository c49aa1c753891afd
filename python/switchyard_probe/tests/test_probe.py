import json
import math
import os
import socket
import tempfile
import unittest

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import switchyard_probe
from tests.moe_models import TinyMoE, train


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_records(folder):
    with open(os.path.join(folder, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def capture(seen):
    """on_step: what the routers did at each step, counted independently of the probe."""

    def on_step(step, model):
        mask = model.switch.router.last_mask  # [B, S, E] kept one-hot
        chosen = model.mixtral.last_chosen  # [T, 2]
        seen[step] = {"switch.kept": mask.reshape(-1, 4).sum(0).tolist(), "mixtral.routed": torch.bincount(chosen.reshape(-1), minlength=4).tolist()}

    return on_step


class SingleProcess(unittest.TestCase):
    def test_records_every_nth_step_with_counts_the_routers_made(self):
        folder = os.path.join(tempfile.mkdtemp(), "my-run")
        seen = {}
        train(folder, steps=12, every=5, on_step=capture(seen))
        records = read_records(folder)
        self.assertEqual([r["step"] for r in records], [1, 5, 10])
        for r in records:
            switch, mixtral = r["layers"]
            self.assertEqual((switch["layer"], mixtral["layer"]), ("switch.router", "mixtral.gate"))
            # Switch: top-1, 4 × 16 tokens; kept within 4 per expert per sequence (4 sequences).
            self.assertEqual(switch["assignments"], 64)
            self.assertEqual(switch["kept"], seen[r["step"]]["switch.kept"])
            self.assertEqual(switch["capacity"], 16)
            self.assertTrue(all(k <= 16 and k <= n for k, n in zip(switch["kept"], switch["routed"])))
            self.assertEqual(sum(switch["kept"]) + switch["dropped"], 64)
            # Mixtral: top-2 of 64 tokens, no capacity, so no kept counts.
            self.assertEqual(mixtral["routed"], seen[r["step"]]["mixtral.routed"])
            self.assertEqual(mixtral["assignments"], 128)
            self.assertNotIn("kept", mixtral)
            for layer in (switch, mixtral):
                self.assertTrue(0 < layer["normalizedEntropy"] <= 1)
                self.assertAlmostEqual(layer["normalizedEntropy"], layer["routerEntropy"] / math.log(4))
                self.assertAlmostEqual(sum(layer["meanProb"]), 1, places=5)
                self.assertAlmostEqual(layer["maxShare"], max(layer["routed"]) / layer["assignments"])
            self.assertTrue(math.isfinite(r["loss"]) and r["tokens"] == 64 and r["probeSeconds"] > 0)
        self.assertTrue(any(r["layers"][0]["dropped"] > 0 for r in records), "capacity 4 per sequence drops some tokens")
        status = read_json(os.path.join(folder, "status.json"))
        self.assertEqual((status["id"], status["state"], status["step"], status["steps"]), ("my-run", "completed", 12, 12))
        config = read_json(os.path.join(folder, "config.json"))
        self.assertEqual(config["external"]["producer"], "pytorch-probe")
        self.assertEqual([(l["name"], l["topK"], l.get("expertCapacity")) for l in config["layers"]], [("switch.router", 1, 4), ("mixtral.gate", 2, None)])

    def test_names_routers_by_hand_and_says_when_it_finds_none(self):
        model = TinyMoE()
        probe = switchyard_probe.attach(model, os.path.join(tempfile.mkdtemp(), "named"), every=1, routers={"mixtral.gate": 1})
        model(torch.randint(0, 64, (2, 8)))
        probe.step(0)
        probe.close()
        (layer,) = read_records(probe.writer.folder)[0]["layers"]
        self.assertEqual((layer["layer"], layer["topK"], layer["assignments"]), ("mixtral.gate", 1, 16))
        with self.assertRaisesRegex(ValueError, "found no router"):
            switchyard_probe.attach(torch.nn.Linear(4, 4), tempfile.mkdtemp())
        with self.assertRaisesRegex(ValueError, "no module named 'nope'"):
            switchyard_probe.attach(model, tempfile.mkdtemp(), routers={"nope": 2})

    def test_the_folder_is_a_run_from_attach_on_and_a_crash_marks_it_stopped(self):
        folder = os.path.join(tempfile.mkdtemp(), "early")
        probe = switchyard_probe.attach(TinyMoE(), folder, every=1)
        self.assertEqual(sorted(os.listdir(folder)), ["config.json", "metrics.jsonl", "status.json"])
        self.assertEqual(read_json(os.path.join(folder, "status.json"))["state"], "running")
        probe._at_exit()  # what atexit runs when the script ends without close()
        self.assertEqual(read_json(os.path.join(folder, "status.json"))["state"], "stopped")


class TopKGate(torch.nn.Module):
    """DeepSpeed's gate interface (deepspeed/moe/sharded_moe.py): a `wg` linear, k, and a forward
    returning (l_aux, combine_weights [S, E, C], dispatch_mask [S, E, C], exp_counts [E])."""

    def __init__(self, d_model, num_experts, capacity):
        super().__init__()
        self.k, self.capacity = 1, capacity
        self.wg = torch.nn.Linear(d_model, num_experts, bias=False)

    def forward(self, x):  # x [S, D]
        gates = torch.softmax(self.wg(x), dim=-1)
        mask = torch.nn.functional.one_hot(gates.argmax(-1), gates.shape[1])  # [S, E]
        exp_counts = mask.sum(0)
        l_aux = (gates.mean(0) * mask.float().mean(0)).sum() * gates.shape[1]
        position = torch.cumsum(mask, 0) * mask - 1  # [S, E] slot in the expert's queue, -1 where not chosen
        mask = mask * (position < self.capacity)
        dispatch = torch.nn.functional.one_hot(position.clamp(0, self.capacity - 1), self.capacity) * mask[..., None]  # [S, E, C]
        return l_aux, dispatch * gates[..., None], dispatch.bool(), exp_counts


class DeepSpeedGate(unittest.TestCase):
    def test_kept_slots_and_l_aux_come_from_the_gate(self):
        torch.manual_seed(1)
        gate = TopKGate(8, 4, capacity=3)
        model = torch.nn.Sequential(gate)
        probe = switchyard_probe.attach(model, os.path.join(tempfile.mkdtemp(), "ds"), every=1)
        x = torch.randn(20, 8)
        l_aux, _, dispatch, exp_counts = gate(x)
        probe.step(7)
        probe.close()
        (layer,) = read_records(probe.writer.folder)[0]["layers"]
        self.assertEqual(layer["routed"], exp_counts.tolist())
        self.assertEqual(layer["kept"], dispatch.sum(dim=(0, 2)).tolist())
        self.assertEqual((layer["capacity"], layer["dropped"]), (3, 20 - int(dispatch.sum())))
        self.assertGreater(layer["dropped"], 0)
        self.assertAlmostEqual(read_records(probe.writer.folder)[0]["auxLoss"], float(l_aux), places=5)


class TrainerCallbackImport(unittest.TestCase):
    def test_the_hf_adapter_needs_transformers_and_says_so(self):
        try:
            import transformers  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "needs the transformers package"):
                import switchyard_probe.hf  # noqa: F401
        else:
            from switchyard_probe.hf import SwitchyardCallback

            self.assertTrue(callable(SwitchyardCallback))


class MegatronGroup(unittest.TestCase):
    """Megatron-Core is not installed here: a module in its place with parallel_state's two calls
    checks which group the probe asks for (the real all_reduce with a group is TwoProcesses')."""

    def test_megatron_data_parallel_group_is_used_when_initialised_and_a_given_group_wins(self):
        import sys
        import types

        from switchyard_probe.probe import data_parallel_group

        asked = []
        state = types.SimpleNamespace(initialised=False)
        ps = types.ModuleType("megatron.core.parallel_state")
        ps.model_parallel_is_initialized = lambda: state.initialised
        ps.get_data_parallel_group = lambda with_context_parallel=False: asked.append(with_context_parallel) or "dp+cp group"
        core = types.ModuleType("megatron.core")
        core.parallel_state = ps
        saved = {k: sys.modules.get(k) for k in ("megatron", "megatron.core", "megatron.core.parallel_state")}
        sys.modules.update({"megatron": types.ModuleType("megatron"), "megatron.core": core, "megatron.core.parallel_state": ps})
        try:
            self.assertIsNone(data_parallel_group(), "not initialised: the whole world")
            state.initialised = True
            self.assertEqual(data_parallel_group(), "dp+cp group")
            self.assertEqual(asked, [True], "context-parallel ranks see different tokens too")
            self.assertEqual(data_parallel_group("mine"), "mine")
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v
        self.assertIsNone(data_parallel_group(), "no Megatron: the whole world")


def _worker(rank, world, port, folder, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    seen = {}
    train(folder, steps=6, every=3, seed=rank, on_step=capture(seen))
    with open(os.path.join(out, "rank%d.json" % rank), "w") as f:
        json.dump(seen, f)
    dist.destroy_process_group()


def _tp_worker(rank, world, port, folder, out):
    """Two tensor-parallel ranks of one replica: the same tokens (same seed). Each is its own
    data-parallel group of one, as Megatron's parallel_state would make them."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    dp_groups = [dist.new_group([r]) for r in range(world)]  # every rank creates every group, in order
    seen = {}
    train(os.path.join(folder, "with-group"), steps=3, every=3, seed=0, on_step=capture(seen), group=dp_groups[rank])
    train(os.path.join(folder, "whole-world"), steps=3, every=3, seed=0)
    with open(os.path.join(out, "rank%d.json" % rank), "w") as f:
        json.dump(seen, f)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwoProcesses(unittest.TestCase):
    def test_counts_are_summed_over_ranks_and_rank_0_alone_writes(self):
        folder = os.path.join(tempfile.mkdtemp(), "ddp-run")
        out = tempfile.mkdtemp()
        mp.spawn(_worker, args=(2, free_port(), folder, out), nprocs=2, join=True)
        ranks = [read_json(os.path.join(out, "rank%d.json" % r)) for r in range(2)]
        records = read_records(folder)
        self.assertEqual([r["step"] for r in records], [1, 3, 6])
        for r in records:
            switch, mixtral = r["layers"]
            s = str(r["step"])
            self.assertEqual(switch["assignments"], 128)
            self.assertEqual(switch["kept"], [a + b for a, b in zip(ranks[0][s]["switch.kept"], ranks[1][s]["switch.kept"])])
            self.assertEqual(mixtral["routed"], [a + b for a, b in zip(ranks[0][s]["mixtral.routed"], ranks[1][s]["mixtral.routed"])])
            self.assertNotEqual(ranks[0][s]["mixtral.routed"], ranks[1][s]["mixtral.routed"], "the ranks saw different data")
        self.assertEqual(read_json(os.path.join(folder, "status.json"))["state"], "completed")

    def test_tensor_parallel_ranks_are_not_double_counted_when_the_data_parallel_group_is_given(self):
        folder = tempfile.mkdtemp()
        out = tempfile.mkdtemp()
        mp.spawn(_tp_worker, args=(2, free_port(), folder, out), nprocs=2, join=True)
        ranks = [read_json(os.path.join(out, "rank%d.json" % r)) for r in range(2)]
        self.assertEqual(ranks[0], ranks[1], "both tensor-parallel ranks routed the same tokens")
        grouped = read_records(os.path.join(folder, "with-group"))
        world = read_records(os.path.join(folder, "whole-world"))
        self.assertEqual([r["step"] for r in grouped], [1, 3])
        for g, w in zip(grouped, world):
            s = str(g["step"])
            self.assertEqual(g["layers"][0]["assignments"], 64, "4 × 16 tokens, top-1, counted once")
            self.assertEqual(g["layers"][1]["routed"], ranks[0][s]["mixtral.routed"])
            self.assertEqual(g["layers"][0]["kept"], ranks[0][s]["switch.kept"])
            # Without the group, the whole world's sum counts each token once per tensor-parallel rank.
            self.assertEqual(w["layers"][1]["routed"], [2 * x for x in ranks[0][s]["mixtral.routed"]])


if __name__ == "__main__":
    unittest.main()

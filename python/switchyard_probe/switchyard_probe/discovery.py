"""Finding the routers of a model, by module type and name:
- HF Switch Transformers: SwitchTransformersTop1Router (outputs the one-hot mask after capacity,
  the max probability and the logits; has num_experts and expert_capacity);
- Mixtral / Qwen-MoE / OLMoE style: a `gate` nn.Linear (logits over experts) inside a sparse MoE
  block (a module whose type name ends in SparseMoeBlock or MoeBlock), top-k from the block or its config;
- DeepSpeed: TopKGate (forward returns l_aux, combine_weights, dispatch_mask [S, E, C], exp_counts;
  its `wg` linear gives the logits);
- any module the user names, with its k: its output is the logits [..., E] (or a tuple starting with them).
"""
import torch


class RouterSpec:
    """kind: 'switch' | 'gate' | 'deepspeed' | 'logits'; `module` is hooked for the logits, and for
    'switch' / 'deepspeed' also for what was kept within capacity."""

    def __init__(self, name, module, kind, num_experts, top_k, capacity=None):
        self.name, self.module, self.kind = name, module, kind
        self.num_experts, self.top_k, self.capacity = num_experts, top_k, capacity

    def config(self):
        layer = {"name": self.name, "numExperts": self.num_experts, "topK": self.top_k, "router": type(self.module).__name__}
        if self.capacity is not None:
            layer["expertCapacity"] = self.capacity
        return layer


def _block_top_k(block, default=None):
    for attr in ("top_k", "num_experts_per_tok", "k"):
        v = getattr(block, attr, None)
        if isinstance(v, int):
            return v
    config = getattr(block, "config", None)
    for attr in ("num_experts_per_tok", "moe_topk", "top_k"):
        v = getattr(config, attr, None)
        if isinstance(v, int):
            return v
    return default


def find_routers(model, routers=None, top_k=None):
    """routers: optional {module name: k} naming routers by hand (their output: logits [..., E]).
    top_k: k for gate-style blocks whose k cannot be read from the block or its config."""
    named = dict(model.named_modules())
    specs = []
    if routers:
        for name, k in routers.items():
            if name not in named:
                raise ValueError("switchyard_probe: no module named %r in the model" % name)
            module = named[name]
            e = getattr(module, "out_features", None) or getattr(module, "num_experts", None)
            if not isinstance(e, int):
                raise ValueError("switchyard_probe: cannot tell the expert count of %r (no out_features or num_experts)" % name)
            specs.append(RouterSpec(name, module, "logits", e, int(k)))
        return specs
    for name, module in named.items():
        type_name = type(module).__name__
        if type_name == "SwitchTransformersTop1Router":
            specs.append(RouterSpec(name, module, "switch", int(module.num_experts), 1, int(module.expert_capacity)))
        elif type_name == "TopKGate" and isinstance(getattr(module, "wg", None), torch.nn.Linear):
            specs.append(RouterSpec(name, module, "deepspeed", module.wg.out_features, int(getattr(module, "k", 1))))
        elif (type_name.endswith("SparseMoeBlock") or type_name.endswith("MoeBlock")) and isinstance(getattr(module, "gate", None), torch.nn.Linear):
            k = _block_top_k(module, top_k)
            if k is None:
                raise ValueError("switchyard_probe: %s %r has no top_k; pass attach(..., top_k=K)" % (type_name, name))
            specs.append(RouterSpec(name + ".gate", module.gate, "gate", module.gate.out_features, int(k)))
    if not specs:
        raise ValueError(
            "switchyard_probe: found no router (SwitchTransformersTop1Router, a SparseMoeBlock's gate, TopKGate); "
            "name them: attach(model, folder, routers={'layers.0.moe.gate': 2})"
        )
    return specs

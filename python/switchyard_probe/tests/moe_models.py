"""Small MoE models written for the tests, with the module types and outputs of the real ones:
an HF Switch Transformers router (SwitchTransformersTop1Router: top-1, expert capacity per sequence)
and a Mixtral-style top-2 block (a `gate` linear inside MixtralSparseMoeBlock, no capacity)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SwitchTransformersTop1Router(nn.Module):
    """As transformers' SwitchTransformersTop1Router.forward: returns (expert_index one-hot after
    capacity [B, S, E], router_probs [B, S, 1], router_logits [B, S, E])."""

    def __init__(self, d_model, num_experts, expert_capacity):
        super().__init__()
        self.num_experts, self.expert_capacity = num_experts, expert_capacity
        self.classifier = nn.Linear(d_model, num_experts, bias=False)

    def forward(self, hidden_states):
        router_logits = self.classifier(hidden_states)
        router_probs = F.softmax(router_logits, dim=-1)
        expert_index = F.one_hot(torch.argmax(router_probs, dim=-1), self.num_experts)
        token_priority = torch.cumsum(expert_index, dim=-2)  # position in its expert's queue, per sequence
        expert_index = expert_index * (token_priority <= self.expert_capacity)
        router_probs = torch.max(router_probs, dim=-1).values.unsqueeze(-1)
        self.last_mask = expert_index  # for the tests: what was kept
        return expert_index, router_probs, router_logits


class SwitchSparseMLP(nn.Module):
    def __init__(self, d_model, num_experts, expert_capacity):
        super().__init__()
        self.router = SwitchTransformersTop1Router(d_model, num_experts, expert_capacity)
        self.experts = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(num_experts))

    def forward(self, x):  # x [B, S, D]
        mask, probs, _ = self.router(x)
        out = x.clone()  # dropped tokens pass through unchanged, as in HF
        for e, expert in enumerate(self.experts):
            sel = mask[..., e].bool()
            if sel.any():
                out[sel] = expert(x[sel]).to(out.dtype)
        return out * probs


class MixtralSparseMoeBlock(nn.Module):
    """As Mixtral's block: gate logits over experts, top-k softmax weights, no capacity."""

    def __init__(self, d_model, num_experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(d_model, num_experts, bias=False)
        self.experts = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(num_experts))

    def forward(self, x):  # x [B, S, D]
        flat = x.reshape(-1, x.shape[-1])
        logits = self.gate(flat)
        weights, chosen = torch.topk(F.softmax(logits, dim=-1), self.top_k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        self.last_chosen = chosen  # for the tests
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            rows, slot = torch.where(chosen == e)
            if rows.numel():
                out.index_add_(0, rows, expert(flat[rows]) * weights[rows, slot, None])
        return out.reshape(x.shape)


class TinyMoE(nn.Module):
    def __init__(self, vocab=64, d_model=32, num_experts=4, expert_capacity=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.switch = SwitchSparseMLP(d_model, num_experts, expert_capacity)
        self.mixtral = MixtralSparseMoeBlock(d_model, num_experts, 2)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        h = self.embed(tokens)
        h = h + self.switch(h)
        h = h + self.mixtral(h)
        return self.head(h)


def train(folder, steps=12, every=5, seed=0, batch=4, seq=16, on_step=None, pause=0.0, group=None):
    """Trains TinyMoE to copy its input with the probe attached; returns the probe.
    on_step(step, model) is called after each step's forward (the tests read the routers there);
    pause: seconds to wait after each step (a slow job, for the editor's live checks); group: attach()'s."""
    import time

    import switchyard_probe

    torch.manual_seed(0)  # the same weights on every rank
    model = TinyMoE()
    probe = switchyard_probe.attach(model, folder, every=every, total_steps=steps, group=group)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)  # each rank its own data
    for step in range(1, steps + 1):
        tokens = torch.randint(0, 64, (batch, seq), generator=gen)
        loss = F.cross_entropy(model(tokens).reshape(-1, 64), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step:
            on_step(step, model)
        probe.step(step, loss=loss, learning_rate=1e-2, tokens=batch * seq)
        if pause:
            time.sleep(pause)
    probe.close()
    return probe

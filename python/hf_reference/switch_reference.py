"""HF's SwitchTransformersForConditionalGeneration forward (eval mode), on a plain state dict.

Written from transformers' src/transformers/models/switch_transformers/modeling_switch_transformers.py
(the version whose dropped tokens output zeros): same names, same maths, no training paths (dropout
and router jitter are off in eval). Used as the oracle of Switchyard's HF import.
"""
import math

import torch


def sparse_step(num_layers, num_sparse):
    # SwitchTransformersConfig.__post_init__
    return num_layers // num_sparse if num_sparse > 0 else num_layers


def is_sparse(i, step):
    # SwitchTransformersStack.__init__
    return (i % step == 1 or step == 1) if step > 0 else False


def layer_norm(x, weight, eps):
    # SwitchTransformersLayerNorm: RMS only, no mean, no bias
    variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def linear(x, weight):
    # torch nn.Linear without bias: weight is [out, in]
    return x @ weight.t()


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    relative_position_if_large = torch.min(relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1))
    return relative_buckets + torch.where(is_small, relative_position, relative_position_if_large)


def compute_bias(table, query_length, key_length, bidirectional, cfg):
    """table: [num_buckets, num_heads] -> [1, H, Tq, Tk]"""
    context = torch.arange(query_length)[:, None]
    memory = torch.arange(key_length)[None, :]
    buckets = relative_position_bucket(
        memory - context, bidirectional, cfg["relative_attention_num_buckets"], cfg["relative_attention_max_distance"]
    )
    return table[buckets].permute([2, 0, 1]).unsqueeze(0)


def attention(sd, prefix, x, kv, position_bias, cfg):
    """x: [B, Tq, d], kv: [B, Tk, d], position_bias: [B|1, H, Tq, Tk] (mask included) -> [B, Tq, d]"""
    b = x.shape[0]
    h, d_kv = cfg["num_heads"], cfg["d_kv"]
    heads = lambda t: t.view(b, -1, h, d_kv).transpose(1, 2)  # noqa: E731
    q = heads(linear(x, sd[f"{prefix}.q.weight"]))
    k = heads(linear(kv, sd[f"{prefix}.k.weight"]))
    v = heads(linear(kv, sd[f"{prefix}.v.weight"]))
    scores = torch.matmul(q, k.transpose(3, 2)) + position_bias  # T5: no 1/sqrt(d_kv)
    weights = torch.nn.functional.softmax(scores.float(), dim=-1).type_as(scores)
    out = torch.matmul(weights, v).transpose(1, 2).contiguous().view(b, -1, h * d_kv)
    return linear(out, sd[f"{prefix}.o.weight"])


def dense_act_dense(sd, prefix, x):
    return linear(torch.relu(linear(x, sd[f"{prefix}.wi.weight"])), sd[f"{prefix}.wo.weight"])


def router(sd, prefix, x, cfg):
    """SwitchTransformersTop1Router in eval: float32 softmax, top-1, fixed expert_capacity per sequence."""
    logits = linear(x.to(torch.float32), sd[f"{prefix}.router.classifier.weight"].to(torch.float32))
    probs = torch.nn.functional.softmax(logits, dim=-1, dtype=torch.float32).to(x.dtype)
    expert_index = torch.nn.functional.one_hot(torch.argmax(probs, dim=-1), num_classes=cfg["num_experts"])
    token_priority = torch.cumsum(expert_index, dim=-2)  # along the sequence: first come, first served
    expert_index = expert_index * (token_priority <= cfg["expert_capacity"])
    return expert_index, torch.max(probs, dim=-1).values.unsqueeze(-1), logits, probs


def sparse_mlp(sd, prefix, x, cfg, report):
    router_mask, max_probs, logits, probs = router(sd, f"{prefix}.mlp", x, cfg)
    next_states = torch.zeros_like(x)  # a dropped token's expert output is zero
    router_mask = router_mask.bool()
    for idx in range(cfg["num_experts"]):
        rows = router_mask[:, :, idx]
        if rows.any():
            next_states[rows] = dense_act_dense(sd, f"{prefix}.mlp.experts.expert_{idx}", x[rows])
    report.append(
        {
            "layer": prefix,
            "probs": probs,
            "expert": torch.argmax(probs, dim=-1),
            "dropped": ~router_mask.any(dim=-1),
        }
    )
    return max_probs * next_states


def stack(sd, cfg, name, ids, mask, encoded=None, encoder_mask=None, report=None):
    """SwitchTransformersStack in eval. ids, mask: [B, T]."""
    is_decoder = name == "decoder"
    num_layers = cfg["num_decoder_layers"] if is_decoder else cfg["num_layers"]
    step = sparse_step(num_layers, cfg["num_sparse_decoder_layers" if is_decoder else "num_sparse_encoder_layers"])
    eps = cfg["layer_norm_epsilon"]
    x = sd["shared.weight"][ids]
    b, t = ids.shape
    neg = torch.finfo(x.dtype).min
    if is_decoder:
        causal = torch.tril(torch.ones(t, t))[None, None] * mask[:, None, None, :]
        self_mask = (1.0 - causal) * neg
        cross_mask = (1.0 - encoder_mask[:, None, None, :].float()) * neg
    else:
        self_mask = (1.0 - mask[:, None, None, :].float()) * neg
    table = sd[f"{name}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    self_bias = compute_bias(table, t, t, not is_decoder, cfg) + self_mask  # block 0's, shared by all
    for i in range(num_layers):
        p = f"{name}.block.{i}"
        h = layer_norm(x, sd[f"{p}.layer.0.layer_norm.weight"], eps)
        x = x + attention(sd, f"{p}.layer.0.SelfAttention", h, h, self_bias, cfg)
        if is_decoder:
            h = layer_norm(x, sd[f"{p}.layer.1.layer_norm.weight"], eps)
            x = x + attention(sd, f"{p}.layer.1.EncDecAttention", h, encoded, cross_mask, cfg)
        ff = f"{p}.layer.{2 if is_decoder else 1}"
        h = layer_norm(x, sd[f"{ff}.layer_norm.weight"], eps)
        x = x + (sparse_mlp(sd, ff, h, cfg, report) if is_sparse(i, step) else dense_act_dense(sd, f"{ff}.mlp", h))
    return layer_norm(x, sd[f"{name}.final_layer_norm.weight"], eps)


def forward(sd, cfg, input_ids, decoder_input_ids):
    """-> logits [B, Tdec, vocab] and each sparse layer's routing, encoder layers then decoder layers."""
    sd = {k: v.to(torch.float32) for k, v in sd.items()}
    report = []
    enc_mask = torch.ones_like(input_ids)
    encoded = stack(sd, cfg, "encoder", input_ids, enc_mask, report=report)
    dec = stack(sd, cfg, "decoder", decoder_input_ids, torch.ones_like(decoder_input_ids), encoded, enc_mask, report)
    if cfg.get("tie_word_embeddings", True):
        # Mesh-TF's rescaling before a tied output projection
        dec = dec * (cfg["d_model"] ** -0.5)
        lm_head = sd["shared.weight"]
    else:
        lm_head = sd["lm_head.weight"]
    return linear(dec, lm_head), report

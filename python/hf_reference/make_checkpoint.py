"""Makes a tiny random Switch Transformers checkpoint in HF's exact layout and names.

    /usr/bin/python3 make_checkpoint.py OUT [--seed N] [--untied] [--shards N] [--base8] [--no-bin]

OUT gets config.json, tokenizer.json (T5-style SentencePiece Unigram), pytorch_model.bin (torch.save:
a zip of a pickle plus raw storages; the embedding aliases share one storage, as in a real state
dict, and one expert is stored in bfloat16) and model.safetensors (written by hand: 8-byte
little-endian header length, JSON header, raw data), or model-0000i-of-0000N.safetensors with
model.safetensors.index.json when --shards N > 1. --base8 uses switch-base-8's exact shapes.
"""
import argparse
import json
import os
import struct

import torch

SENTINELS = 10
WORDS = ["▁The", "▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁dog", "▁walk", "▁into", "▁a", "▁bar", "▁is", "▁and",
         "▁of", "▁to", "▁in", "▁it", "▁was", "ing", "ed", "s", "er", "▁", ".", ",", "!", "?", "'"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def tiny_config(vocab_size, untied):
    return {
        "architectures": ["SwitchTransformersForConditionalGeneration"],
        "model_type": "switch_transformers",
        "vocab_size": vocab_size,
        "d_model": 32,
        "d_kv": 8,
        "d_ff": 64,
        "num_layers": 4,
        "num_decoder_layers": 4,
        "num_heads": 4,
        "num_experts": 4,
        "num_sparse_encoder_layers": 2,
        "num_sparse_decoder_layers": 2,
        "encoder_sparse_step": 2,
        "decoder_sparse_step": 2,
        "expert_capacity": 4,
        "router_bias": False,
        "router_jitter_noise": 0.01,
        "router_dtype": "float32",
        "router_ignore_padding_tokens": False,
        "router_z_loss_coef": 0.001,
        "router_aux_loss_coef": 0.001,
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "dropout_rate": 0.1,
        "layer_norm_epsilon": 1e-6,
        "initializer_factor": 1.0,
        "dense_act_fn": "relu",
        "feed_forward_proj": "relu",
        "is_encoder_decoder": True,
        "tie_word_embeddings": not untied,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }


def base8_config():
    # google/switch-base-8's config.json
    c = tiny_config(32128, False)
    c.update(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_decoder_layers=12, num_heads=12, num_experts=8,
             num_sparse_encoder_layers=6, num_sparse_decoder_layers=6, expert_capacity=64)
    del c["tie_word_embeddings"]  # not in the hub's file: HF's default (True) applies
    return c


def tokenizer_json(vocab_size):
    """T5's tokenizer.json layout: <pad> </s> <unk>, the pieces, then <extra_id_{N-1}> .. <extra_id_0> on top."""
    special = ["<pad>", "</s>", "<unk>"]
    pieces = list(dict.fromkeys(WORDS + LETTERS + ["▁" + ch for ch in LETTERS]))  # each piece once
    extra = [f"<extra_id_{i}>" for i in reversed(range(SENTINELS))]
    vocab = [[t, 0.0] for t in special]
    # Longer pieces score higher, so the Viterbi prefers whole words.
    vocab += [[p, -10.0 + len(p)] for p in pieces]
    vocab += [[t, 0.0] for t in extra]
    assert len(vocab) <= vocab_size
    added = [(i, t) for i, t in enumerate(special)] + [(len(vocab) - SENTINELS + k, t) for k, t in enumerate(extra)]
    metaspace = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for i, t in added
        ],
        # T5's files carry SentencePiece's NFKC-based charsmap here (HF's JS library applies NFKC itself).
        "normalizer": {"type": "Precompiled", "precompiled_charsmap": ""},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}},
        },
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 2, "vocab": vocab},
    }


def state_dict(cfg, gen):
    """HF's names and shapes; torch Linear weights are [out, in]."""
    d, ff, inner, e = cfg["d_model"], cfg["d_ff"], cfg["num_heads"] * cfg["d_kv"], cfg["num_experts"]
    randn = lambda *shape, std=1.0: torch.randn(*shape, generator=gen) * std  # noqa: E731
    norm = lambda: 1.0 + randn(d, std=0.1)  # noqa: E731
    sd = {"shared.weight": randn(cfg["vocab_size"], d)}
    for name, n, n_sparse in (("encoder", cfg["num_layers"], cfg["num_sparse_encoder_layers"]),
                              ("decoder", cfg["num_decoder_layers"], cfg["num_sparse_decoder_layers"])):
        step = n // n_sparse if n_sparse > 0 else n
        attn = ["SelfAttention"] + (["EncDecAttention"] if name == "decoder" else [])
        for i in range(n):
            p = f"{name}.block.{i}"
            for j, a in enumerate(attn):
                sd[f"{p}.layer.{j}.{a}.q.weight"] = randn(inner, d, std=(d * cfg["d_kv"]) ** -0.5)
                sd[f"{p}.layer.{j}.{a}.k.weight"] = randn(inner, d, std=d**-0.5)
                sd[f"{p}.layer.{j}.{a}.v.weight"] = randn(inner, d, std=d**-0.5)
                sd[f"{p}.layer.{j}.{a}.o.weight"] = randn(d, inner, std=inner**-0.5)
                sd[f"{p}.layer.{j}.layer_norm.weight"] = norm()
            if i == 0:
                sd[f"{p}.layer.0.SelfAttention.relative_attention_bias.weight"] = randn(
                    cfg["relative_attention_num_buckets"], cfg["num_heads"], std=0.5)
            f = f"{p}.layer.{len(attn)}"
            sd[f"{f}.layer_norm.weight"] = norm()
            if (i % step == 1 or step == 1) if step > 0 else False:
                sd[f"{f}.mlp.router.classifier.weight"] = randn(e, d)
                for x in range(e):
                    sd[f"{f}.mlp.experts.expert_{x}.wi.weight"] = randn(ff, d, std=d**-0.5)
                    sd[f"{f}.mlp.experts.expert_{x}.wo.weight"] = randn(d, ff, std=ff**-0.5)
            else:
                sd[f"{f}.mlp.wi.weight"] = randn(ff, d, std=d**-0.5)
                sd[f"{f}.mlp.wo.weight"] = randn(d, ff, std=ff**-0.5)
        sd[f"{name}.final_layer_norm.weight"] = norm()
    if cfg.get("tie_word_embeddings", True):
        sd["lm_head.weight"] = sd["shared.weight"]
    else:
        sd["lm_head.weight"] = randn(cfg["vocab_size"], d, std=d**-0.5)
    # Some storages in half precisions, as on the hub (switch-base-8 mixes float32 and bfloat16).
    sparse_expert = next(k for k in sd if ".experts.expert_1.wi.weight" in k)
    sd[sparse_expert] = sd[sparse_expert].to(torch.bfloat16)
    sd["decoder.final_layer_norm.weight"] = sd["decoder.final_layer_norm.weight"].to(torch.float16)
    return sd


SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()  # numpy has no bfloat16: the same 2 bytes per value
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header with spaces to 8-byte alignment
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def save_safetensors(out, sd, shards):
    # HF's safetensors files hold each tied tensor once: lm_head.weight only when untied.
    names = [k for k in sd if not (k == "lm_head.weight" and sd[k] is sd["shared.weight"])]
    if shards <= 1:
        write_safetensors(os.path.join(out, "model.safetensors"), {k: sd[k] for k in names})
        return
    weight_map = {}
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = names[s::shards]
        write_safetensors(os.path.join(out, file), {k: sd[k] for k in part})
        weight_map.update({k: file for k in part})
    total = sum(sd[k].numel() * sd[k].element_size() for k in names)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--base8", action="store_true")
    ap.add_argument("--no-bin", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok = tokenizer_json(32128 if args.base8 else 256)
    cfg = base8_config() if args.base8 else tiny_config(len(tok["model"]["vocab"]) + 28, args.untied)
    gen = torch.Generator().manual_seed(args.seed)
    sd = state_dict(cfg, gen)
    if not args.base8:
        # A real state dict also lists the stacks' embeddings, one storage with shared.weight.
        sd["encoder.embed_tokens.weight"] = sd["shared.weight"]
        sd["decoder.embed_tokens.weight"] = sd["shared.weight"]
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    save_safetensors(args.out, {k: v for k, v in sd.items() if not k.endswith("embed_tokens.weight")}, args.shards)
    if not args.no_bin:
        torch.save(sd, os.path.join(args.out, "pytorch_model.bin"))


if __name__ == "__main__":
    main()

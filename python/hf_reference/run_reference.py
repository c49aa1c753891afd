"""Runs the reference forward on a model folder made by make_checkpoint.py.

    /usr/bin/python3 run_reference.py DIR < cases.json > results.json

cases.json: [{"input_ids": [...], "decoder_input_ids": [...]}, ...], one sequence each (batch 1), or
a batch of B sequences of one length as lists of lists ([[...], [...]]).
Each result: "logits" [B * Tdec * vocab] and per sparse layer (encoder, then decoder) its name, router
"probs" [B * T * E], top-1 "expert" [B * T] and "dropped" [B * T], all flattened row-major.
"""
import json
import os
import struct
import sys

import torch

from switch_reference import forward


DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """The format by hand (no safetensors package here): u64 header length, JSON header, raw data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    sd = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        sd[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return sd


def load_state_dict(folder):
    bin_path = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(bin_path):
        return torch.load(bin_path, map_location="cpu")
    return read_safetensors(os.path.join(folder, "model.safetensors"))


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    sd = load_state_dict(folder)
    results = []
    with torch.no_grad():
        for case in json.load(sys.stdin):
            batch = lambda ids: torch.tensor(ids if isinstance(ids[0], list) else [ids])  # noqa: E731
            logits, report = forward(sd, cfg, batch(case["input_ids"]), batch(case["decoder_input_ids"]))
            results.append({
                "logits": logits.flatten().tolist(),
                "layers": [
                    {
                        "layer": r["layer"],
                        "probs": r["probs"].flatten().tolist(),
                        "expert": r["expert"].flatten().tolist(),
                        "dropped": r["dropped"].flatten().int().tolist(),
                    }
                    for r in report
                ],
            })
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

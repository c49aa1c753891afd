"""Runs the reference forward on a model folder made by make_checkpoint.py.

    /usr/bin/python3 run_reference.py DIR < cases.json > results.json

cases.json: [{"input_ids": [...], "decoder_input_ids": [...]}, ...], one sequence each (batch 1).
Each result: "logits" [Tdec * vocab] and per sparse layer (encoder, then decoder) its name, router
"probs" [T * E], top-1 "expert" [T] and "dropped" [T], all flattened row-major.
"""
import json
import os
import sys

import torch

from switch_reference import forward


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    sd = torch.load(os.path.join(folder, "pytorch_model.bin"), map_location="cpu")
    results = []
    with torch.no_grad():
        for case in json.load(sys.stdin):
            logits, report = forward(sd, cfg, torch.tensor([case["input_ids"]]), torch.tensor([case["decoder_input_ids"]]))
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

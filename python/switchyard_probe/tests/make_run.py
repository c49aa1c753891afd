"""Writes a probe run folder by training the tests' TinyMoE with the probe attached:
python -m tests.make_run FOLDER [--steps N] [--every K] [--pause SECONDS]
(the Node-side test of the run format; the editor's live checks run it slowly, as a training job)."""
import argparse

from tests.moe_models import train

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--pause", type=float, default=0.0)
    a = p.parse_args()
    train(a.folder, steps=a.steps, every=a.every, pause=a.pause)

"""Writes a probe run folder: python -m tests.make_run FOLDER (used by the Node-side test)."""
import sys

from tests.moe_models import train

if __name__ == "__main__":
    train(sys.argv[1], steps=12, every=5)

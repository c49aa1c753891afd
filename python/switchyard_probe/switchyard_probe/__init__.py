"""switchyard_probe: record the routing of a PyTorch Mixture-of-Experts model into a Switchyard run
folder (docs/run-format.md). probe = switchyard_probe.attach(model, "runs/my-run", every=10);
probe.step(step, loss=loss) after each training step."""
from .discovery import RouterSpec, find_routers
from .probe import Probe, __version__, attach

__all__ = ["attach", "Probe", "RouterSpec", "find_routers", "__version__"]

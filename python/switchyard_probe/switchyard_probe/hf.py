"""A Hugging Face Trainer callback: trainer.add_callback(SwitchyardCallback(probe)). Imported only on
demand, as transformers is not a dependency of the probe."""
try:
    from transformers import TrainerCallback
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("switchyard_probe.hf needs the transformers package (pip install transformers)") from e


class SwitchyardCallback(TrainerCallback):
    """Closes a probe step after each optimizer step. The Trainer logs its loss only after
    on_step_end, so records carry routing, not the loss (the Trainer's own logs have it)."""

    def __init__(self, probe):
        self.probe = probe

    def on_train_begin(self, args, state, control, **kwargs):
        self.probe.total_steps = state.max_steps or 0

    def on_step_end(self, args, state, control, **kwargs):
        self.probe.step(state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.probe.close()

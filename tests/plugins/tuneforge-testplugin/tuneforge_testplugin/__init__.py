"""A test plugin: one scheduler component plus its config, found through the entry point."""
from tuneforge import register

CONFIG_DIR = "pkg://tuneforge_testplugin.conf"


@register("scheduler", "step_decay")
class StepDecay:
    """Multiply the learning rate by `gamma` every `step_size` steps."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5):
        self.step_size, self.gamma = step_size, gamma

    def multiplier(self, step: int, total_steps: int) -> float:
        return self.gamma ** (step // self.step_size)

"""AdaLoRA through peft: W = W0 + P Lambda Q with a rank budget reallocated during training."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

IMPORTANCE = ("magnitude", "sensitivity", "smoothed")


@register("peft", "adalora")
class AdaLora:
    """SVD-form adapters (Lambda starts at 0, orthogonality regulariser on P and Q) whose total rank
    shrinks from init_r to target_r per module on a cubic schedule, keeping the most important
    singular values (`importance`: magnitude |lambda|, sensitivity |w grad|, or smoothed = the
    beta1/beta2 moving averages of sensitivity and uncertainty)."""

    def __init__(self, init_r: int = 12, target_r: int = 4, tinit: int | float = 0.1,
                 tfinal: int | float = 0.2, deltaT: int = 1, beta1: float = 0.85, beta2: float = 0.85,
                 orth_reg_weight: float = 0.5, alpha: int = 16, dropout: float = 0.0,
                 target_modules: list[str] | str = "all-linear",
                 importance: Literal["magnitude", "sensitivity", "smoothed"] = "smoothed",
                 total_step: int | None = None):
        if importance not in IMPORTANCE:
            raise ConfigError(ConfigIssue("peft.importance", f"expected one of {IMPORTANCE}, got {importance!r}"))
        if target_r > init_r or target_r < 0:
            raise ConfigError(ConfigIssue("peft.target_r", f"must be in [0, init_r={init_r}], got {target_r}"))
        self.init_r, self.target_r, self.tinit, self.tfinal, self.deltaT = init_r, target_r, tinit, tfinal, deltaT
        self.beta1, self.beta2, self.orth_reg_weight = beta1, beta2, orth_reg_weight
        self.alpha, self.dropout, self.target_modules = alpha, dropout, target_modules
        self.importance, self.total_step = importance, total_step

    def schedule(self, total_step: int) -> tuple[int, int]:
        """(tinit, tfinal) in steps: ints are steps, floats below 1 are fractions of `total_step`."""
        def steps(v: int | float) -> int:
            return int(round(v * total_step)) if isinstance(v, float) and v < 1 else int(v)

        tinit, tfinal = steps(self.tinit), steps(self.tfinal)
        if total_step <= 0 or tinit >= total_step - tfinal:
            raise ConfigError(ConfigIssue(
                "peft.tinit", f"AdaLoRA needs tinit < total_step - tfinal; got tinit={tinit}, "
                              f"tfinal={tfinal}, total_step={total_step}: train longer or lower tinit/tfinal"))
        return tinit, tfinal

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        from peft import AdaLoraConfig, get_peft_model

        total = self.total_step or 1_000_000  # placeholder: the callback sets the real value on fit start
        tinit, tfinal = self.schedule(total)
        config = AdaLoraConfig(init_r=self.init_r, target_r=self.target_r, tinit=tinit, tfinal=tfinal,
                               deltaT=self.deltaT, beta1=self.beta1, beta2=self.beta2,
                               orth_reg_weight=self.orth_reg_weight, lora_alpha=self.alpha,
                               lora_dropout=self.dropout, target_modules=self.target_modules,
                               total_step=total, task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
        from tuneforge.peft._adalora import install_allocator

        install_allocator(model, self.importance)
        return model

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from tuneforge.peft._adalora import write_rank_report
        from tuneforge.peft._hf import save_adapter

        saved = save_adapter(model, tokenizer, out_dir)
        return saved | write_rank_report(model, self.init_r, Path(out_dir))

    def load(self, model: Any, out_dir: Path) -> Any:
        from tuneforge.peft._hf import load_adapter

        return load_adapter(model, Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        from tuneforge.peft._adalora import AdaLoraAllocation

        return [AdaLoraAllocation(self)]

"""A CPU fit in bf16-mixed: frozen weights kept in bf16 (trained ones and buffers float32), adapter inputs cast
by autocast alone, attention through `sdpa_fp32`; evaluation during the fit under the same autocast; plain
`sdpa` and peft's input casting again after it."""
from __future__ import annotations

import lightning.pytorch as pl
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tuneforge import binding
from tuneforge.data.base import LoaderSettings
from tuneforge.inference.generate import GenerationSettings
from tuneforge.lightning.eval_callback import GenerationEval
from tuneforge.lightning.loaders import make_loader
from tuneforge.lightning.module import SFTModule
from tuneforge.metrics.exact_match import ExactMatch
from tuneforge.model.attention import NAME
from tuneforge.scheduler.constant import Constant
from tuneforge.template.named import get_template


def attention(model) -> str:
    return model.get_base_model().config._attn_implementation


def casting(model) -> set[bool]:
    return {m.cast_input_dtype_enabled for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")}


def lora_fit(precision: str, steps: int = 2, callbacks=(), dropout: float = 0.05):
    model, tok = make_tiny()
    model = binding.build("peft", {"name": "lora", "r": 4, "dropout": dropout}, "peft").apply(model, tok)
    loader = make_loader(encoded(tok, n=8), LoaderSettings(batch_size=4), tok.pad_token_id, train=True, seed=0)
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3), Constant())
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=steps, precision=precision, logger=False,
                         callbacks=list(callbacks), enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(module, loader)
    return model, tok, trainer


class Spy(pl.Callback):
    """The attention implementation and peft's input casting at each training step."""

    def __init__(self):
        self.seen = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append((attention(pl_module.model), casting(pl_module.model)))


def test_a_bf16_fit_on_cpu_attends_in_float32_and_ends_on_sdpa():
    spy = Spy()
    model, _, trainer = lora_fit("bf16-mixed", callbacks=[spy])
    assert spy.seen == [(NAME, {False}), (NAME, {False})]
    assert attention(model) == "sdpa" and casting(model) == {True}  # as peft and transformers made them
    assert torch.isfinite(trainer.callback_metrics["train/loss"])


def test_a_float32_fit_changes_nothing():
    spy = Spy()
    model, _, _ = lora_fit("32-true", callbacks=[spy])
    assert spy.seen == [("sdpa", {True}), ("sdpa", {True})]
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_a_cpu_bf16_fit_keeps_frozen_weights_in_bf16_and_trained_ones_in_float32():
    model, tok, _ = lora_fit("bf16-mixed", steps=1)
    dtypes = {(p.requires_grad, p.dtype) for p in model.parameters()}
    assert dtypes == {(True, torch.float32), (False, torch.bfloat16)}
    assert {b.dtype for name, b in model.named_buffers() if "inv_freq" in name} == {torch.float32}

    # after the fit the model generates outside autocast: peft casts the bf16 inputs for its float32 adapters
    with torch.no_grad():
        assert torch.isfinite(model(input_ids=torch.tensor([[5, 6, 7]])).logits).all()


def test_evaluation_during_a_bf16_fit_runs_under_its_autocast():
    """Generation inside the fit meets bf16 frozen weights, float32 adapters and no input casting: without the
    fit's autocast around it, the adapters' products would fail on mixed dtypes."""
    from tuneforge.data.example import Example

    examples = [Example.single_turn(f"reverse ab{i}", f"{i}ba") for i in range(3)]
    evaluation = GenerationEval(examples, None, get_template("plain"), {"exact_match": ExactMatch()},
                                every_n_steps=1, generation=GenerationSettings(max_new_tokens=4, batch_size=3))
    model, tok = make_tiny()
    evaluation.tokenizer = tok
    model = binding.build("peft", {"name": "lora", "r": 4}, "peft").apply(model, tok)
    loader = make_loader(encoded(tok, n=8), LoaderSettings(batch_size=4), tok.pad_token_id, train=True, seed=0)
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3), Constant())
    pl.Trainer(accelerator="cpu", devices=1, max_steps=2, precision="bf16-mixed", logger=False,
               callbacks=[evaluation], enable_checkpointing=False, enable_progress_bar=False,
               enable_model_summary=False).fit(module, loader)
    assert [step for step, _ in evaluation.history] == [1, 2]

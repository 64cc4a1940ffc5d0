"""NEFTune in real Lightning fits of a tiny model: noise of scale alpha / sqrt(L d) on the input embeddings in
training forward passes, none in validation, the hook gone after the fit, and alpha = 0 trains exactly as
without the callback."""
from __future__ import annotations

import math

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.lightning.neftune import NEFTune


def fit(callbacks, steps=3):
    """A short real fit with validation; returns (model, train losses)."""
    import lightning.pytorch as pl
    import torch

    from tuneforge.data.base import LoaderSettings
    from tuneforge.data.example import Example
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.render.encode import encode
    from tuneforge.template.named import get_template

    pl.seed_everything(0, verbose=False)
    model, tok = make_tiny()
    masker = binding.build("loss_masker", {"name": "full"}, "loss_mask")
    encoded = [encode(Example.single_turn(f"reverse w{i}", f"{i}w"), tok, get_template("plain"), masker, 32)
               for i in range(12)]
    losses = []

    class Losses(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            losses.append(float(outputs["loss"]))

    sched = binding.build("scheduler", {"name": "constant"}, "scheduler")
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3), sched)
    trainer = pl.Trainer(max_steps=steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         callbacks=[*callbacks, Losses()], enable_model_summary=False, accelerator="cpu",
                         val_check_interval=steps, num_sanity_val_steps=1)
    loader = make_loader(encoded, LoaderSettings(batch_size=4), tok.pad_token_id, train=True, seed=0)
    val = make_loader(encoded[:4], LoaderSettings(batch_size=4), tok.pad_token_id, train=False, seed=0)
    trainer.fit(module, loader, val)
    return model, losses


def test_noise_in_training_steps_only_and_within_its_scale():
    import lightning.pytorch as pl

    seen = []  # (training?, largest |noise|, scale) per embedding forward

    class Watch(pl.Callback):
        """Registered after NEFTune's hook, this one sees the noisy output."""

        def on_fit_start(self, trainer, pl_module):
            emb = pl_module.model.get_input_embeddings()

            def hook(module, args, output):
                clean = module.weight[args[0]]
                scale = 5.0 / math.sqrt(output.shape[-2] * output.shape[-1])
                seen.append((module.training, float((output - clean).abs().max()), scale))

            self.handle = emb.register_forward_hook(hook)

        def on_fit_end(self, trainer, pl_module):
            self.handle.remove()

    model, _ = fit([NEFTune(alpha=5.0), Watch()])
    training = [(noise, scale) for is_training, noise, scale in seen if is_training]
    evaluating = [noise for is_training, noise, _ in seen if not is_training]
    assert len(training) == 3 and len(evaluating) == 2  # sanity check + the validation at the end
    assert all(0.5 * scale < noise <= scale for noise, scale in training)  # U(-m, m) over thousands of draws
    assert evaluating == [0.0, 0.0]
    assert not model.get_input_embeddings()._forward_hooks  # nothing left on the model after the fit


def test_alpha_zero_trains_exactly_as_without_neftune():
    _, plain = fit([])
    _, zero = fit([NEFTune(alpha=0.0)])
    _, noisy = fit([NEFTune(alpha=5.0)])
    assert len(plain) == 3 and zero == plain
    assert noisy != plain


def test_config_issues_name_the_bad_alpha():
    assert NEFTune.config_issues(alpha=0.0) == {} and NEFTune.config_issues(alpha=5) == {}
    assert set(NEFTune.config_issues(alpha=-1.0)) == {"alpha"} and NEFTune.config_issues(alpha=float("nan"))

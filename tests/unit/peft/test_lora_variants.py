"""LoRA variants from config on a real tiny model: rsLoRA's scaling, the init options (values, refusals),
LoRA+'s optimizer groups in a real Lightning fit, and PiSSA / OLoRA adapters saved for the original base."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.errors import ConfigError


def lora_layers(model):
    from peft.tuners.lora import LoraLayer

    return [m for m in model.modules() if isinstance(m, LoraLayer)]


@pytest.mark.parametrize("name", ["lora", "dora", "qlora"])
def test_rslora_scales_by_alpha_over_sqrt_r(name):
    for rslora, expected in ((True, 8 / 16 ** 0.5), (False, 8 / 16)):
        method = binding.build("peft", {"name": name, "r": 16, "alpha": 8, "rslora": rslora}, "peft")
        layers = lora_layers(method.apply(make_tiny()[0]))
        assert layers and all(layer.scaling["default"] == pytest.approx(expected) for layer in layers)


@pytest.mark.parametrize("node,path,words", [
    ({"name": "lora", "init": "svd"}, "peft.init", "pissa_niter_<n>"),
    ({"name": "lora", "init": "pissa_niter_x"}, "peft.init", "got 'pissa_niter_x'"),
    ({"name": "qlora", "init": "pissa"}, "peft.init", "quantised base"),
    ({"name": "lora", "init": "olora", "load_in_8bit": True}, "peft.init", "quantised base"),
    ({"name": "dora", "init": "pissa_niter_4"}, "peft.init", "DoRA"),
    ({"name": "lora", "loraplus_lr_ratio": 0}, "peft.loraplus_lr_ratio", "must be > 0"),
    ({"name": "dora", "loraplus_lr_ratio": -16.0}, "peft.loraplus_lr_ratio", "must be > 0"),
])
def test_bad_values_name_their_key(node, path, words):
    with pytest.raises(ConfigError) as err:
        binding.build("peft", node, "peft")
    assert [i.path for i in err.value.issues] == [path] and words in str(err.value)


def test_validate_reports_every_bad_variant_value_at_once(compose):
    from tuneforge.config.assemble import assemble

    cfg = compose("train", ["peft=lora", "peft.init=random", "peft.loraplus_lr_ratio=-1", "callbacks=neftune",
                            "callbacks.neftune.alpha=-5", "run_dir=unused"])
    with pytest.raises(ConfigError) as err:
        assemble("train", cfg)
    assert {i.path for i in err.value.issues} == {"peft.init", "peft.loraplus_lr_ratio", "callbacks.neftune.alpha"}


@pytest.mark.parametrize("init", ["gaussian", "pissa", "pissa_niter_2", "olora"])
def test_init_reaches_peft_and_keeps_the_model_function(init):
    """Every init starts from the base model's function: gaussian with B = 0, PiSSA / OLoRA by moving the
    adapter's part out of the base weights (W_res + s B0 A0 = W0)."""
    import torch

    base, _ = make_tiny(seed=1)
    ids = torch.tensor([[3, 9, 27, 81, 5]])
    with torch.no_grad():
        before = base(input_ids=ids).logits
        model = binding.build("peft", {"name": "lora", "r": 4, "init": init}, "peft").apply(base).eval()
        after = model(input_ids=ids).logits
        with model.disable_adapter():
            residual = model(input_ids=ids).logits
    assert model.peft_config["default"].init_lora_weights == init
    assert torch.allclose(after, before, atol=1e-4)
    changed = init != "gaussian"  # PiSSA / OLoRA rewrite the base: without the adapter it is another model
    assert (not torch.allclose(residual, before, atol=1e-3)) == changed
    assert hasattr(model, "tuneforge_initial_adapter") == changed


def test_loraplus_trains_b_matrices_at_ratio_times_the_lr():
    import lightning.pytorch as pl
    import torch

    from tuneforge.data.base import LoaderSettings
    from tuneforge.data.example import Example
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.render.encode import encode
    from tuneforge.template.named import get_template

    base, tok = make_tiny()
    model = binding.build("peft", {"name": "lora", "r": 4, "loraplus_lr_ratio": 16}, "peft").apply(base)
    names = {id(p): n for n, p in model.named_parameters()}
    masker = binding.build("loss_masker", {"name": "full"}, "loss_mask")
    encoded = [encode(Example.single_turn(f"w{i}", "x"), tok, get_template("plain"), masker, 32) for i in range(12)]
    seen = []

    class Probe(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            groups = trainer.optimizers[0].param_groups
            seen.append([(g["lr"], g.get("lr_scale"), {names[id(p)].split(".")[-3] for p in g["params"]})
                         for g in groups])

    sched = binding.build("scheduler", {"name": "linear", "warmup_steps": 0}, "scheduler")
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3), sched, weight_decay=0.01)
    trainer = pl.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         callbacks=[Probe()], enable_model_summary=False, accelerator="cpu")
    trainer.fit(module, make_loader(encoded, LoaderSettings(batch_size=4), tok.pad_token_id, train=True, seed=0))
    assert len(seen) == 3 and seen[0][0][0] > seen[-1][0][0]  # the schedule moves both groups
    for (lr_a, scale_a, kinds_a), (lr_b, scale_b, kinds_b) in seen:
        assert kinds_a == {"lora_A"} and scale_a is None
        assert kinds_b == {"lora_B"} and scale_b == 16.0 and lr_b == pytest.approx(16 * lr_a)
    assert seen[0][0][0] == pytest.approx(1e-3)

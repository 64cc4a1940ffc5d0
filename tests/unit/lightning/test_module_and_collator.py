"""Optimizer parameter groups and the collator, on a real tiny model and the byte tokenizer."""
from __future__ import annotations

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.data.base import LoaderSettings
from tuneforge.lightning.loaders import make_loader
from tuneforge.render.collate import Collator
from tuneforge.lightning.module import parameter_groups
from tuneforge.render.encode import IGNORE_INDEX, encode
from tuneforge.data.example import Example
from tuneforge.template.named import get_template


def test_no_weight_decay_on_biases_and_norms():
    model, _ = make_tiny()
    groups = parameter_groups(model, weight_decay=0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = [names[id(p)] for p in groups[0]["params"]]
    plain = [names[id(p)] for p in groups[1]["params"]]
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0
    assert plain and all("norm" in n for n in plain)
    assert not any("norm" in n for n in decayed) and any("q_proj" in n for n in decayed)
    assert len(decayed) + len(plain) == len(list(model.parameters()))


def test_frozen_parameters_are_not_optimized():
    model, _ = make_tiny()
    for n, p in model.named_parameters():
        p.requires_grad_("q_proj" in n)
    groups = parameter_groups(model, weight_decay=0.0)
    assert sum(len(g["params"]) for g in groups) == 2  # one q_proj per layer


def test_eos_is_trained_although_pad_equals_eos(byte_tokenizer):
    assert byte_tokenizer.pad_token_id == byte_tokenizer.eos_token_id
    masker = binding.build("loss_masker", {"name": "multi_turn"}, "loss_mask")
    ex = Example.single_turn("reverse abc", "cba")
    enc = encode(ex, byte_tokenizer, get_template("plain"), masker, max_length=64)
    trained = [t for t, label in zip(enc.input_ids, enc.labels) if label != IGNORE_INDEX]
    assert byte_tokenizer.decode(trained) == "cba<|im_end|>"
    batch = Collator(byte_tokenizer.pad_token_id)([enc, encode(Example.single_turn("upper abcdef", "ABCDEF"),
                                                          byte_tokenizer, get_template("plain"), masker, 64)])
    row = batch["labels"][0].tolist()
    n = len(enc.input_ids)
    assert row[n - 1] == byte_tokenizer.eos_token_id  # the EOS label survives padding
    assert all(label == IGNORE_INDEX for label in row[n:])  # padding is never trained
    assert batch["attention_mask"][0].tolist() == [1] * n + [0] * (len(row) - n)


def test_train_loader_order_depends_only_on_the_seed(byte_tokenizer):
    masker = binding.build("loss_masker", {"name": "full"}, "loss_mask")
    encoded = [encode(Example.single_turn(f"w{i}", "x"), byte_tokenizer, get_template("plain"), masker, 32)
               for i in range(20)]
    settings = LoaderSettings(batch_size=4)

    def order(seed):
        return [b["input_ids"][:, 1].tolist() for b in make_loader(encoded, settings, 0, train=True, seed=seed)]

    assert order(3) == order(3) and order(3) != order(4)


def test_a_model_loaded_in_eval_mode_trains_in_train_mode(byte_tokenizer):
    import lightning.pytorch as pl
    import torch

    from tuneforge.lightning.module import SFTModule

    model, tok = make_tiny()
    model.eval()  # as from_pretrained returns it
    masker = binding.build("loss_masker", {"name": "full"}, "loss_mask")
    encoded = [encode(Example.single_turn(f"w{i}", "x"), tok, get_template("plain"), masker, 32) for i in range(8)]
    seen = []

    class Probe(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(all(m.training for m in pl_module.model.modules()))

    sched = binding.build("scheduler", {"name": "constant"}, "scheduler")
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3), sched)
    trainer = pl.Trainer(max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         callbacks=[Probe()],
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(module, make_loader(encoded, LoaderSettings(batch_size=4), tok.pad_token_id, train=True, seed=0))
    assert seen == [True, True]

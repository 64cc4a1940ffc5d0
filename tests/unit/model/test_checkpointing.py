"""Activation checkpointing (`model.gradient_checkpointing=true`): the same loss and gradients as without it
for one method of each PEFT family, padded and packed, with the recomputation really happening (fewer
tensors saved in the forward pass, each layer run twice); prefix tuning is refused with a clear error."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tuneforge import binding
from tuneforge.lightning.module import SFTModule
from tuneforge.render.collate import PackingCollator

ATOL = 1e-6  # float32: recomputation replays the same kernels (measured difference: 0.0)
# One method of each family: full, LoRA-like, adapter / (IA)^3, prompt learning (peft's and ours).
METHODS = ["full", "lora", "ia3", "adapter", "prompt", "ptuning_free"]


def _model(method: str, checkpointing: bool):
    model, tok = make_tiny(seed=0, gradient_checkpointing=checkpointing)
    torch.manual_seed(1)  # the method's own initialisation, identical in both runs
    model = binding.build("peft", {"name": method}, "peft").apply(model, tok)
    if method == "lora":  # B starts at 0: make every LoRA tensor get a gradient
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_(std=0.02)
    return model.train(), tok


def _batch(model, tok, packed: bool = False):
    if packed:
        return PackingCollator(tok.pad_token_id, 64)(encoded(tok))
    ids = torch.randint(3, 250, (2, 24), generator=torch.Generator().manual_seed(0))
    if hasattr(model, "tuneforge_placeholder_id"):  # ptuning_free: virtual tokens where placeholders are
        ids[:, 2:5] = model.tuneforge_placeholder_id
    mask = torch.ones_like(ids)
    mask[1, 20:] = 0  # one padded row
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, :6] = -100  # a masked prompt
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _loss_and_grads(method: str, checkpointing: bool, packed: bool = False):
    model, tok = _model(method, checkpointing)
    batch = _batch(model, tok, packed)
    saved = []
    hooks = torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel() * t.element_size()) or t,
                                                     lambda t: t)
    torch.manual_seed(2)  # LoRA dropout: the recomputation replays the RNG
    with hooks:
        loss = SFTModule(model, None, None).loss(batch)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads, sum(saved)


@pytest.mark.parametrize("method", METHODS)
def test_same_loss_and_gradients_with_checkpointing(method):
    loss, grads, saved = _loss_and_grads(method, False)
    loss_ck, grads_ck, saved_ck = _loss_and_grads(method, True)
    assert torch.allclose(loss, loss_ck, atol=ATOL), (loss, loss_ck)
    assert grads.keys() == grads_ck.keys() and grads
    for name in grads:
        assert torch.allclose(grads[name], grads_ck[name], atol=ATOL), (name, (grads[name] - grads_ck[name]).abs().max())
    assert any(g.abs().sum() > 0 for g in grads_ck.values())
    assert saved_ck < 0.6 * saved, (saved_ck, saved)  # the layers' activations were not kept


def test_packed_batch_with_checkpointing():
    loss, grads, _ = _loss_and_grads("lora", False, packed=True)
    loss_ck, grads_ck, _ = _loss_and_grads("lora", True, packed=True)
    assert torch.allclose(loss, loss_ck, atol=ATOL)
    for name in grads:
        assert torch.allclose(grads[name], grads_ck[name], atol=ATOL), name


def test_each_layer_is_recomputed_in_backward():
    model, tok = _model("lora", True)
    layer = model.get_base_model().model.layers[0].mlp
    calls, forward = [], layer.forward
    layer.forward = lambda *a, **k: calls.append(1) or forward(*a, **k)
    batch = _batch(model, tok)
    loss = SFTModule(model, None, None).loss(batch)
    assert len(calls) == 1
    loss.backward()
    assert len(calls) == 2


def test_frozen_base_inputs_require_grad_and_eval_is_untouched():
    model, tok = make_tiny(gradient_checkpointing=True)
    assert any(getattr(m, "gradient_checkpointing", False) for m in model.modules())
    ids = torch.randint(3, 250, (1, 8))
    assert model.get_input_embeddings()(ids).requires_grad  # peft's enable_input_require_grads
    model.eval()
    with torch.no_grad():  # generation and evaluation run as before
        assert model.generate(ids, max_new_tokens=2, do_sample=False).shape == (1, 10)


def test_prefix_tuning_is_refused_clearly():
    model, tok = make_tiny(gradient_checkpointing=True)
    with pytest.raises(ValueError, match="PREFIX_TUNING does not work with gradient checkpointing"):
        binding.build("peft", {"name": "prefix"}, "peft").apply(model, tok)


def test_config_key_reaches_every_builder(compose, tmp_path):
    from tuneforge.config.assemble import assemble

    for model in ("tiny", "smollm2_135m", "hf"):
        extra = ["model.name_or_path=/tmp"] if model == "hf" else []
        cfg = compose("train", [f"model={model}", "model.gradient_checkpointing=true", f"run_dir={tmp_path}", *extra])
        assert assemble("train", cfg, []).model.gradient_checkpointing is True

"""Model loading for real model sizes: `dtype: auto` keeps the checkpoint's dtype, `attn_implementation` is
passed through (sdpa by default), QLoRA's base loads directly in 4-bit and LoRA's `load_in_8bit` in int8
(the full-precision model never exists), with the same trainable parts, numbers and saved adapter as the
quantise-after-building path that `model=tiny` keeps."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import make_tiny
from tuneforge.model.hf import HFModel
from tuneforge.model.load import build_model
from tuneforge.model.tiny import TinyModel
from tuneforge.peft.lora import Lora
from tuneforge.peft.qlora import QLora


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small Llama saved as a Hugging Face directory in bfloat16 (as most released checkpoints are)."""
    model, tok = make_tiny(hidden_size=64, num_layers=2, seed=0)
    path = tmp_path_factory.mktemp("bf16-llama")
    model.to(torch.bfloat16).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _linear_types(model) -> set[str]:
    return {type(m).__name__ for n, m in model.named_modules() if "proj" in n.rsplit(".", 1)[-1]}


def test_dtype_auto_is_the_checkpoints_and_attention_is_passed_through(model_dir):
    model, _ = HFModel(str(model_dir)).build()
    assert model.dtype == torch.bfloat16
    assert model.config._attn_implementation == "sdpa"
    model, _ = HFModel(str(model_dir), dtype="float32", attn_implementation="eager").build()
    assert model.dtype == torch.float32 and model.config._attn_implementation == "eager"


def test_model_config_needs_only_config_json(model_dir, tmp_path):
    (tmp_path / "config.json").write_text((model_dir / "config.json").read_text())
    config = HFModel(str(tmp_path)).model_config()
    assert config.hidden_size == 64 and config.num_hidden_layers == 2
    assert TinyModel(hidden_size=32).model_config().hidden_size == 32


def _qlora_step(model, tok):
    """One QLoRA training step after a no-grad eval pass (the AVX512-BF16 trap); (loss, grads, adapter)."""
    torch.manual_seed(1)
    model = QLora(r=4, dropout=0.0).apply(model, tok).train()
    ids = torch.randint(3, 250, (2, 16), generator=torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        model(input_ids=ids)
    model.train()
    with torch.no_grad():  # B starts at 0: give A a gradient too
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.01)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return model, loss.detach(), grads


def test_qlora_base_loads_in_4bit_with_the_same_numbers_as_quantising_after(model_dir, tmp_path):
    import bitsandbytes as bnb

    direct, tok = build_model(HFModel(str(model_dir), dtype="float32"), QLora())
    assert getattr(direct, "is_loaded_in_4bit", False)
    assert _linear_types(direct) == {"Linear4bit"}  # no full-precision linear was ever built
    assert type(direct.lm_head) is torch.nn.Linear  # the head stays unquantised, as before
    after, _ = HFModel(str(model_dir), dtype="float32").build()
    assert _linear_types(after) == {"Linear"}

    direct, loss_d, grads_d = _qlora_step(direct, tok)
    after, loss_a, grads_a = _qlora_step(after, tok)
    assert all(not m.support_avx512bf16_for_cpu for m in direct.modules() if isinstance(m, bnb.nn.Linear4bit))
    assert grads_d.keys() == grads_a.keys() and len(grads_d) == 2 * 7 * 2  # LoRA A and B on 7 linears x 2 layers
    assert torch.equal(loss_d, loss_a)
    for name in grads_d:
        assert grads_d[name].abs().sum() > 0, name
        assert torch.allclose(grads_d[name], grads_a[name], atol=1e-7), name

    method = QLora(r=4, dropout=0.0)
    saved_d = method.save(direct, tok, tmp_path / "direct")
    saved_a = method.save(after, tok, tmp_path / "after")
    files = lambda d: sorted(p.name for p in (tmp_path / d / "adapter").iterdir())  # noqa: E731
    assert files("direct") == files("after")
    assert open(saved_d["quantization"]).read() == open(saved_a["quantization"]).read()
    from safetensors.torch import load_file

    wd = load_file(tmp_path / "direct" / "adapter" / "adapter_model.safetensors")
    wa = load_file(tmp_path / "after" / "adapter" / "adapter_model.safetensors")
    assert wd.keys() == wa.keys() and all(torch.equal(wd[k], wa[k]) for k in wd)

    reloaded = method.load(build_model(HFModel(str(model_dir), dtype="float32"), method)[0], tmp_path / "direct")
    ids = torch.randint(3, 250, (1, 8))
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, direct.eval()(input_ids=ids).logits, atol=1e-5)


def test_tiny_ignores_the_request_and_qlora_quantises_after_building():
    model, tok = build_model(TinyModel(hidden_size=64, num_layers=1), QLora())
    assert _linear_types(model) == {"Linear"}
    model = QLora().apply(model, tok)
    assert _linear_types(model.get_base_model()) == {"Linear4bit"}


def test_lora_load_in_8bit(model_dir):
    model, tok = build_model(HFModel(str(model_dir)), Lora(load_in_8bit=True))
    assert _linear_types(model) == {"Linear8bitLt"} and getattr(model, "is_loaded_in_8bit", False)
    assert build_model(HFModel(str(model_dir)), Lora())[0].dtype == torch.bfloat16  # 8-bit only when asked
    tiny = Lora(load_in_8bit=True, dropout=0.0).apply(make_tiny(hidden_size=64)[0])
    assert _linear_types(tiny.get_base_model()) == {"Linear8bitLt"}  # built in memory: quantised after
    for peft_model in (Lora(load_in_8bit=True, r=4).apply(model, tok), tiny):
        ids = torch.randint(3, 250, (2, 12))
        peft_model.train()(input_ids=ids, labels=ids).loss.backward()
        grads = [p.grad for n, p in peft_model.named_parameters() if "lora_B" in n]
        assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)

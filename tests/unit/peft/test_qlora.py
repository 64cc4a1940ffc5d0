"""QLoRA: NF4 base, LoRA trains, also after an eval pass (which on AVX512-BF16 CPUs repacks the 4-bit
weights into a layout with no backward: zero gradients unless guarded)."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny


def _cpu_has_avx512_bf16() -> bool:
    try:
        return "avx512_bf16" in open("/proc/cpuinfo").read()
    except OSError:
        return False


def _changed_after_eval_then_train(workaround: bool) -> dict[str, bool]:
    import torch

    from tuneforge.peft.qlora import QLora

    model, _ = make_tiny(hidden_size=64)  # in_features >= blocksize: the repacking path runs
    model = QLora(r=4, dropout=0.0).apply(model)
    if not workaround:
        for m in model.modules():
            if hasattr(m, "support_avx512bf16_for_cpu"):
                m.support_avx512bf16_for_cpu = True
    x = torch.randint(0, 250, (4, 12))
    model.eval()
    with torch.no_grad():  # what Lightning's sanity check / a validation pass does
        model(input_ids=x, labels=x)
    model.train()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in trainable.items()}
    opt = torch.optim.AdamW(trainable.values(), lr=1e-2, weight_decay=0.0)
    for _ in range(2):  # LoRA B starts at 0, so A first gets a gradient on the second step
        opt.zero_grad()
        model(input_ids=x, labels=x).loss.backward()
        opt.step()
    return {n: not torch.equal(before[n], p.detach()) for n, p in trainable.items()}


def test_every_trainable_tensor_changes_after_validation_pass():
    changed = _changed_after_eval_then_train(workaround=True)
    assert len(changed) == 2 * 7 * 2
    assert all(changed.values()), [n for n, c in changed.items() if not c]


@pytest.mark.skipif(not _cpu_has_avx512_bf16(), reason="the trap exists only on AVX512-BF16 CPUs")
def test_without_workaround_the_trap_is_real():
    """Shows the test above can fail: without the workaround LoRA weights stay frozen."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("model quantised on CUDA")
    changed = _changed_after_eval_then_train(workaround=False)
    assert not all(changed.values())


def test_base_is_4bit_nf4_double_quant_and_head_unquantised():
    import bitsandbytes as bnb
    import torch

    from tuneforge.peft.qlora import QLora

    model, _ = make_tiny()
    model = QLora(r=4).apply(model)
    linears = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(linears) == 14
    for m in linears:
        assert m.weight.dtype == torch.uint8 and m.weight.quant_type == "nf4"
        assert m.weight.quant_state.nested  # double quantisation of the absmax scales
        assert not m.support_avx512bf16_for_cpu
    inner = model.base_model.model
    assert type(inner.lm_head) is torch.nn.Linear and inner.lm_head.weight.dtype == torch.float32
    assert type(inner.model.embed_tokens) is torch.nn.Embedding

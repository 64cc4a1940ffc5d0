"""Houlsby adapters: identity at init, they train, save/reload gives the same outputs."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny


def _logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def test_identity_at_init_trains_and_reloads(tmp_path, byte_tokenizer):
    import torch

    from tuneforge.peft.adapter import Adapter

    ids = torch.randint(3, 250, (2, 10), generator=torch.Generator().manual_seed(0))
    base, _ = make_tiny(seed=1)
    reference = _logits(base, ids)
    model = Adapter(r=4).apply(base)
    assert torch.equal(_logits(model, ids), reference)  # near-identity init: exactly the base model
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert len(names) == 2 * 2 * 4 and all("_adapter." in n for n in names)
    assert "model.layers.0.self_attn_adapter.down.weight" in names

    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    model.eval()
    trained = _logits(model, ids)
    assert not torch.allclose(trained, reference)

    saved = Adapter(r=4).save(model, byte_tokenizer, tmp_path)
    assert sorted(p.name for p in (tmp_path / "adapter").iterdir()) >= ["adapter_config.json", "adapters.safetensors"]
    fresh, _ = make_tiny(seed=1)
    reloaded = Adapter().load(fresh, tmp_path)  # the saved config wins over the instance's
    assert torch.allclose(_logits(reloaded, ids), trained, atol=1e-6)
    assert saved["adapter"] == str(tmp_path / "adapter")


def test_unknown_architecture_fails_clearly():
    import torch

    from tuneforge.errors import TuneforgeError
    from tuneforge.peft.adapter import Adapter

    class NotADecoder(torch.nn.Module):
        config = type("C", (), {"hidden_size": 8})()

    with pytest.raises(TuneforgeError, match="decoder layers"):
        Adapter().apply(NotADecoder())

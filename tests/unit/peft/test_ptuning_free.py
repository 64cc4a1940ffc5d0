"""Free-form P-tuning: virtual tokens at the placeholders (before and after the input), trains,
generate() matches full forwards, save/reload gives the same outputs."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny

PROMPT = "<|v|><|v|><|v|>Input: stone<|v|><|v|>Output:"


@pytest.mark.parametrize("encoder", ["MLP", "LSTM"])
def test_free_form_virtual_tokens(tmp_path, byte_tokenizer, encoder):
    import torch

    from tuneforge.peft.ptuning_free import FreeFormPTuning

    method = FreeFormPTuning(num_virtual_tokens=5, encoder=encoder, encoder_hidden_size=16)
    model = method.apply(make_tiny()[0], byte_tokenizer)
    pid = byte_tokenizer.convert_tokens_to_ids("<|v|>")
    ids = byte_tokenizer(PROMPT, return_tensors="pt", add_special_tokens=False)["input_ids"]
    assert int((ids == pid).sum()) == 5
    embeds = model.get_input_embeddings()(ids)[0]
    virtual = model.get_input_embeddings().encoder()
    positions = (ids[0] == pid).nonzero().flatten().tolist()
    for k, pos in enumerate(positions):  # k-th placeholder -> h_k, before and after the input
        assert torch.equal(embeds[pos], virtual[k])
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(".encoder." in n for n in names)

    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    for _ in range(2):
        opt.zero_grad()
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
    assert all(not torch.equal(before[n], p) for n, p in model.named_parameters() if p.requires_grad)

    model.eval()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=6,
                             do_sample=False, eos_token_id=None, pad_token_id=byte_tokenizer.pad_token_id)
        seq = ids
        for _ in range(6):
            nxt = model(input_ids=seq).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
        assert torch.equal(out, seq)
        expected = model(input_ids=ids).logits
    method.save(model, byte_tokenizer, tmp_path)
    reloaded = FreeFormPTuning().load(make_tiny()[0], tmp_path)
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, expected, atol=1e-6)


def test_too_many_placeholders_and_no_tokenizer(byte_tokenizer):
    from tuneforge.errors import ConfigError
    from tuneforge.peft.ptuning_free import FreeFormPTuning

    with pytest.raises(ConfigError, match="needs the tokenizer"):
        FreeFormPTuning().apply(make_tiny()[0])
    model = FreeFormPTuning(num_virtual_tokens=2).apply(make_tiny()[0], byte_tokenizer)
    ids = byte_tokenizer(PROMPT, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with pytest.raises(ValueError, match="placeholders"):
        model(input_ids=ids)

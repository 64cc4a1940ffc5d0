"""Packing (each example isolated in its row), the fused LM-head loss and length-grouped batching, on real tiny models.

Isolation is measured as the largest logit difference between an example inside a packed row and the
same example run alone; the tests also show that this measure catches the silent leaks (a 2D mask,
a bool mask on eager attention)."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.data.base import LoaderSettings
from tuneforge.errors import TuneforgeError
from tuneforge.lightning.loaders import LengthGroupedSampler, make_loader
from tuneforge.render.collate import Collator, PackingCollator, pack_rows, packed_attention_mask
from tuneforge.lightning.module import SFTModule, fused_parts, linear_cross_entropy
from tuneforge.render.encode import IGNORE_INDEX, encode
from tuneforge.data.example import Example
from tuneforge.template.named import get_template

torch.set_num_threads(1)
WORDS = ["abc", "hello world", "xy", "packing rows", "q", "a longer reply here", "sort me", "zz top"]


def encoded(tokenizer, n=len(WORDS), mask="multi_turn"):
    masker = binding.build("loss_masker", {"name": mask}, "loss_mask")
    words = [WORDS[i % len(WORDS)] + "x" * (i // len(WORDS) % 13) for i in range(n)]  # distinct lengths
    return [encode(Example.single_turn(f"reverse {w}", w[::-1]), tokenizer, get_template("plain"), masker, 64)
            for w in words]


def worst_leak(model, batch, **inputs) -> float:
    """Largest |logit(packed) - logit(alone)| over every example of every row."""
    with torch.no_grad():
        packed = model(**inputs).logits
        worst = 0.0
        for r, row in enumerate(batch["segment_ids"]):
            for s in row.unique().tolist():
                if s < 0:
                    continue
                idx = (row == s).nonzero().squeeze(1)
                alone = model(input_ids=batch["input_ids"][r, idx][None], use_cache=False).logits[0]
                worst = max(worst, (packed[r, idx] - alone).abs().max().item())
    return worst


@pytest.fixture(params=["sdpa", "eager"])
def packed_setup(request, byte_tokenizer):
    model, tok = make_tiny(attn_implementation=request.param)
    model.eval()
    batch = PackingCollator(tok.pad_token_id, 64)(encoded(tok))
    assert batch["input_ids"].shape[0] < len(WORDS)  # several examples share rows
    assert (batch["segment_ids"] == -1).any()  # and some row ends in padding
    return model, batch


@pytest.mark.parametrize("use_cache", [False, True])
def test_packed_examples_do_not_see_each_other(packed_setup, use_cache):
    model, batch = packed_setup
    inputs = SFTModule(model, None, None).model_inputs(batch)
    assert worst_leak(model, batch, **inputs, use_cache=use_cache) < 1e-4


def test_the_measure_catches_a_2d_mask_leak(packed_setup):
    """Position ids restarting per example with a 2D padding mask: examples attend to each other."""
    model, batch = packed_setup
    mask_2d = (batch["segment_ids"] >= 0).long()
    assert worst_leak(model, batch, input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                      attention_mask=mask_2d, use_cache=False) > 1e-2


def test_a_bool_4d_mask_leaks_on_eager_attention(byte_tokenizer):
    """Why the mask is additive float: eager adds a bool mask to the scores and masks nothing."""
    model, tok = make_tiny(attn_implementation="eager")
    model.eval()
    batch = PackingCollator(tok.pad_token_id, 64)(encoded(tok))
    allowed = packed_attention_mask(batch["segment_ids"], torch.float32) == 0
    assert worst_leak(model, batch, input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                      attention_mask=allowed, use_cache=False) > 1e-2


def test_padding_rows_stay_finite_on_eager(byte_tokenizer):
    model, tok = make_tiny(attn_implementation="eager")
    batch = PackingCollator(tok.pad_token_id, 64)(encoded(tok))
    logits = model(**SFTModule(model, None, None).model_inputs(batch), use_cache=False).logits
    assert torch.isfinite(logits).all()


def test_packed_layout(byte_tokenizer):
    exs = encoded(byte_tokenizer)
    batch = PackingCollator(byte_tokenizer.pad_token_id, 64)(exs)
    seen = []
    for r, row in enumerate(batch["segment_ids"]):
        for s in row.unique().tolist():
            if s < 0:
                continue
            idx = (row == s).nonzero().squeeze(1)
            assert idx.tolist() == list(range(idx[0], idx[-1] + 1))  # contiguous
            assert batch["position_ids"][r, idx].tolist() == list(range(len(idx)))  # restart at 0
            ids = batch["input_ids"][r, idx].tolist()
            e = next(e for e in exs if e.input_ids == ids)
            labels = batch["labels"][r, idx].tolist()
            assert labels[0] == IGNORE_INDEX and labels[1:] == e.labels[1:]
            seen.append(ids)
        assert (batch["labels"][r][row < 0] == IGNORE_INDEX).all()
    assert sorted(seen) == sorted(e.input_ids for e in exs) and batch["num_examples"] == len(exs)
    assert "attention_mask" not in batch  # a 2D mask would silently undo the isolation


def test_pack_rows_first_fit_decreasing():
    rows = pack_rows([5, 9, 3, 12, 4, 1], capacity=10)
    assert sorted(i for row in rows for i in row) == list(range(6))
    assert rows[0] == [3]  # longer than the capacity: a row of its own
    assert all(sum([5, 9, 3, 12, 4, 1][i] for i in row) <= 10 for row in rows[1:])
    assert len(rows) == 4


@pytest.mark.parametrize("fused", [False, True])
def test_packed_loss_and_gradients_equal_the_padded_ones(byte_tokenizer, fused):
    model, tok = make_tiny(attn_implementation="sdpa")
    module = SFTModule(model, None, None, fused_loss=fused)
    exs = encoded(tok)
    losses, grads = [], []
    for collate in (Collator(tok.pad_token_id), PackingCollator(tok.pad_token_id, 64)):
        model.zero_grad()
        loss = module.loss(collate(exs))
        loss.backward()
        losses.append(loss.item())
        grads.append([p.grad.clone() for p in model.parameters()])
    assert abs(losses[0] - losses[1]) < 1e-5
    assert max((a - b).abs().max().item() for a, b in zip(*grads)) < 1e-5


def test_fused_loss_equals_the_models_own_loss_with_lora(byte_tokenizer):
    model, tok = make_tiny()
    model = binding.build("peft", {"name": "lora", "r": 4, "dropout": 0.0}, "peft").apply(model, tok)
    decoder_head = fused_parts(model)
    assert decoder_head is not None
    batch = Collator(tok.pad_token_id)(encoded(tok))
    module = SFTModule(model, None, None)
    results = []
    for fused in (False, True):
        module.fused_loss = fused
        model.zero_grad()
        loss = module.loss(batch)
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    (plain, g_plain), (fast, g_fast) = results
    assert abs(plain - fast) < 1e-5 and len(g_plain) > 0
    assert max((a - b).abs().max().item() for a, b in zip(g_plain, g_fast)) < 1e-6
    with torch.no_grad():  # validation: no gradient bookkeeping, same number
        assert abs(module.loss(batch).item() - fast) < 1e-6


def test_fused_loss_in_chunks_is_exact(monkeypatch, byte_tokenizer):
    """Many small chunks (as for a large vocabulary) give the same loss and gradients as one."""
    import tuneforge.lightning.module as mod

    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=True)
    hidden = torch.randn(3, 12, 16, requires_grad=True)
    labels = torch.randint(0, 50, (3, 12))
    labels[:, :4] = IGNORE_INDEX
    ref = torch.nn.functional.cross_entropy(head(hidden)[:, :-1].reshape(-1, 50), labels[:, 1:].reshape(-1))
    ref.backward()
    expected = (hidden.grad.clone(), head.weight.grad.clone(), head.bias.grad.clone())
    hidden.grad = head.weight.grad = head.bias.grad = None
    monkeypatch.setattr(mod, "CHUNK_ELEMENTS", 50 * 5)  # chunks of 5 rows
    loss = linear_cross_entropy(hidden, head, labels)
    loss.backward()
    assert abs(loss.item() - ref.item()) < 1e-6
    for got, want in zip((hidden.grad, head.weight.grad, head.bias.grad), expected):
        assert (got - want).abs().max().item() < 1e-6


@pytest.mark.parametrize("method", ["adalora", "prompt"])
def test_methods_that_change_the_loss_or_inputs_keep_the_models_loss(byte_tokenizer, method):
    model, tok = make_tiny()
    extra = {"total_step": 10} if method == "adalora" else {}
    model = binding.build("peft", {"name": method, **extra}, "peft").apply(model, tok)
    assert fused_parts(model) is None


def test_packing_refuses_prompt_learning(byte_tokenizer):
    model, tok = make_tiny()
    model = binding.build("peft", {"name": "prompt"}, "peft").apply(model, tok)
    batch = PackingCollator(tok.pad_token_id, 64)(encoded(tok))
    with pytest.raises(TuneforgeError, match="packing"):
        SFTModule(model, None, None).loss(batch)


def _lengths_of(loader):
    return [(b["attention_mask"].sum(1)).tolist() for b in loader]


def test_length_grouped_batches_are_seeded_and_pad_less(byte_tokenizer):
    exs = encoded(byte_tokenizer, n=240)
    grouped = LoaderSettings(batch_size=2, group_by_length=True)  # mega-batches of 100: three of them

    def padding(settings, seed):
        loader = make_loader(exs, settings, 0, train=True, seed=seed)
        return sum(b["attention_mask"].numel() - b["attention_mask"].sum().item() for b in loader)

    order = [b["input_ids"].tolist() for b in make_loader(exs, grouped, 0, train=True, seed=1)]
    assert order == [b["input_ids"].tolist() for b in make_loader(exs, grouped, 0, train=True, seed=1)]
    assert order != [b["input_ids"].tolist() for b in make_loader(exs, grouped, 0, train=True, seed=2)]
    assert sorted(i for lengths in _lengths_of(make_loader(exs, grouped, 0, train=True, seed=1)) for i in lengths) \
        == sorted(len(e.input_ids) for e in exs)
    assert padding(grouped, 1) < 0.5 * padding(LoaderSettings(batch_size=2), 1)


def test_sampler_is_a_permutation_sorted_within_mega_batches():
    lengths = [(7 * i) % 23 for i in range(230)]
    sampler = LengthGroupedSampler(lengths, batch_size=2, generator=torch.Generator().manual_seed(0))
    order = list(sampler)
    assert sorted(order) == list(range(230))
    for start in range(0, 230, 100):  # mega-batches of 2 * 50
        chunk = [lengths[i] for i in order[start:start + 100]]
        assert chunk == sorted(chunk, reverse=True)


@pytest.mark.parametrize("settings", [LoaderSettings(batch_size=8, group_by_length=True),
                                      LoaderSettings(batch_size=8, packing=True, pack_length=48)])
def test_loader_resumes_mid_epoch_at_the_exact_batch(byte_tokenizer, settings):
    exs = encoded(byte_tokenizer, n=80)
    loader = make_loader(exs, settings, 0, train=True, seed=5)
    epochs = [[b["input_ids"].tolist() for b in loader] for _ in range(2)]
    assert epochs[0] != epochs[1]  # a new order each epoch
    loader = make_loader(exs, settings, 0, train=True, seed=5)
    it = iter(loader)
    first = [next(it)["input_ids"].tolist() for _ in range(4)]
    state = loader.state_dict()
    resumed = make_loader(exs, settings, 0, train=True, seed=5)
    resumed.load_state_dict(state)
    rest = [b["input_ids"].tolist() for b in resumed] + [b["input_ids"].tolist() for b in resumed]
    assert first + rest == epochs[0] + epochs[1]

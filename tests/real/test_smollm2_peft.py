"""Every PEFT method on SmolLM2-135M-Instruct: one real training step through `tuneforge train` (after a
validation pass, which is what leaves QLoRA with zero gradients on AVX512-BF16 CPUs unless guarded)
changes its trainable weights, and greedy `generate()` on a chat prompt equals step-by-step full forward
passes (on transformers 5.24 prompt-learning `generate()` does not)."""
from __future__ import annotations

import json

import pytest

from tests.real.conftest import requires_smollm2
from tests.unit.peft.test_generate_matches_forward import step_by_step

pytestmark = [pytest.mark.slow, requires_smollm2]

METHODS = ["full", "lora", "dora", "ia3", "adalora", "qlora", "freeze", "adapter", "prefix", "prompt",
           "ptuning", "ptuning_free"]
EXTRA = {"prompt": ["peft.init_text=Answer with JSON."], "ptuning_free": ["peft.num_virtual_tokens=4",
                                                                          "data.system='<|v|><|v|><|v|><|v|>'"]}
NEW_TOKENS = 6


@pytest.fixture(scope="module")
def chats(tmp_path_factory):
    """A few extraction dialogues as an OpenAI-messages JSONL file."""
    from tuneforge.data.json_extract import JsonExtract

    path = tmp_path_factory.mktemp("chats") / "chats.jsonl"
    examples = JsonExtract(num_train=10, num_val=0, num_test=0).build()["train"]
    path.write_text("".join(json.dumps({"messages": ex.messages}) + "\n" for ex in examples))
    return path


@pytest.mark.parametrize("method", METHODS)
def test_method_trains_a_step_and_generates_like_full_forwards(method, smollm2_dir, chats, compose, tmp_path,
                                                               monkeypatch):
    import torch

    from tuneforge.config.assemble import assemble
    from tuneforge.render.encode import encode_prompt
    from tuneforge.data.example import Example
    from tuneforge.template.named import get_template
    from tuneforge.commands.train import train

    cfg = compose("train", [
        "model=smollm2_135m", f"model.cache_dir={smollm2_dir}", "data=dialogue", f"data.path={chats}",
        "data.val_fraction=0.2", "data.batch_size=4", "data.eval_batch_size=2", "data.max_length=128",
        "loss_mask=multi_turn", f"peft={method}", "optimizer.lr=1e-3", "scheduler=constant",
        "trainer.max_steps=1", "trainer.val_check_interval=null", "trainer.num_sanity_val_steps=1",
        "+trainer.enable_progress_bar=false", "eval.enabled=false", "callbacks=none", "logger=none",
        "checkpoint.enabled=false", f"run_dir={tmp_path}",
        # float32: generate() and full forwards agree to 5e-4 only there (a bf16 CPU fit leaves bf16 weights)
        "trainer.precision=32-true", *EXTRA.get(method, [])])
    method_cls = type(assemble("train", cfg).peft)
    seen: dict = {}
    apply, save = method_cls.apply, method_cls.save

    def recording_apply(self, model, tokenizer=None):
        model = apply(self, model, tokenizer)
        seen["before"] = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        return model

    def recording_save(self, model, tokenizer, out_dir):
        seen["model"], seen["tokenizer"] = model, tokenizer
        return save(self, model, tokenizer, out_dir)

    monkeypatch.setattr(method_cls, "apply", recording_apply)
    monkeypatch.setattr(method_cls, "save", recording_save)
    metrics = train(cfg)
    assert metrics["trainer/global_step"] == 1 and 0 < metrics["params/trainable"] <= metrics["params/total"]
    model, tok = seen["model"].eval(), seen["tokenizer"]
    after = dict(model.named_parameters())
    changed = [n for n, p in seen["before"].items() if not torch.equal(p, after[n].detach())]
    assert changed, f"{method}: one training step changed no trainable tensor"
    if method in ("lora", "qlora", "dora"):  # B starts at zero and gets the first step's gradient
        assert all(n in changed for n in seen["before"] if "lora_B" in n), method

    messages = json.loads(chats.read_text().splitlines()[0])["messages"]
    if method == "ptuning_free":
        messages = [{"role": "system", "content": "<|v|><|v|><|v|><|v|>"}, *messages]
    prompt = encode_prompt(Example(messages), tok, get_template("auto", tok))
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS,
                             do_sample=False, output_scores=True, return_dict_in_generate=True,
                             eos_token_id=None, pad_token_id=tok.pad_token_id)
    generated = out.sequences[:, ids.shape[1]:]
    expected, expected_logits = step_by_step(model, ids, NEW_TOKENS)
    assert generated.shape[1] == NEW_TOKENS
    assert torch.equal(generated, expected), (method, tok.decode(generated[0]), tok.decode(expected[0]))
    diff = (torch.stack(out.scores, 1) - expected_logits).abs().max().item()
    print(f"{method}: {tok.decode(generated[0])!r}, max |generate score - full forward logit| = {diff:.1e}")
    assert diff < 5e-4, (method, diff)

"""`tuneforge chat`: the one-shot reply of a tiny trained run, in a subprocess, is the greedy reply to the
prompt rendered by the TRAINING template (alpaca here, while the tokenizer's own template is ChatML); the run's
saved directories carry that template and a model card from the run. (A one-step run mostly answers with
newlines, so the reply alone barely tells templates apart: the saved template is compared directly, and
tests/unit/template/test_saved_template.py compares its tokens with training's.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from tests.unit.peft._helpers import train_small

PROMPT = "reverse kqzt"


def test_one_shot_reply_uses_the_training_template(compose, tmp_path):
    import lightning.pytorch as pl

    from tests.unit.peft._helpers import small_cfg
    from tuneforge.config.assemble import assemble
    from tuneforge.template.alpaca import ALPACA

    overrides = ("peft=lora", "template=alpaca", "data.max_length=256", "trainer.max_steps=1", "optimizer.lr=1e-4")
    train_small(compose, tmp_path, *overrides)
    adapter = tmp_path / "adapter"
    assert (adapter / "chat_template.jinja").read_text() == ALPACA.to_jinja()
    card = (adapter / "README.md").read_text()
    assert "[More Information Needed]" not in card and "peft=lora" in card and "library_name: peft" in card
    assert "train/loss" in card  # the run's metrics
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((tmp_path / "base").resolve())  # a loadable base (model=tiny)
    assert (tmp_path / "base" / "model.safetensors").is_file()

    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "chat", f"run={tmp_path}", f"prompt={PROMPT}",
                          "max_new_tokens=8"], capture_output=True, text=True, env={**os.environ}, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]

    parts = assemble("train", small_cfg(compose, tmp_path, *overrides))
    pl.seed_everything(42, verbose=False)
    model = parts.peft.load(parts.model.build()[0], tmp_path)
    tokenizer = parts.model.build_tokenizer()
    prompt, _ = ALPACA.render([{"role": "user", "content": PROMPT}], eos=tokenizer.eos_token,
                              add_generation_prompt=True)
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        generated = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                   do_sample=False, eos_token_id=tokenizer.eos_token_id,
                                   pad_token_id=tokenizer.pad_token_id)
    expected = tokenizer.decode(generated[0, ids.shape[1]:], skip_special_tokens=True)
    assert out.stdout == expected + "\n", (out.stdout, expected)
    assert expected, "generation stopped at once: the comparison would show nothing"


def test_model_dir_that_is_no_model_or_peft_adapter_is_one_error_line(tmp_path):
    import pytest

    from tuneforge.commands.chat import KEYS, load, parse
    from tuneforge.errors import TuneforgeError

    (tmp_path / "adapter_config.json").write_text(json.dumps({"method": "adapter"}))  # tuneforge's own files
    with pytest.raises(TuneforgeError, match=r"not a model directory .*load with run=RUN_DIR"):
        load({"model": str(tmp_path)})
    with pytest.raises(TuneforgeError, match=r"chat: unexpected argument 'modle=x'; expected run=\.\.\."):
        parse(["modle=x"], KEYS, "chat")

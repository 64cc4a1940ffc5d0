"""`tuneforge preview`: jsonl on stdout and nothing else there; rich rendering with counts; a tokenizer
directory apart from the model (`model.tokenizer=DIR`) with its own chat template."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.unit.template._bpe import bpe_tokenizer

CHAT = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"},
                      {"role": "assistant", "content": "hi"}, {"role": "user", "content": "bye"},
                      {"role": "assistant", "content": "ciao"}]}] * 4 + ["{broken"]


def preview(tmp_path, *overrides):
    return subprocess.run([sys.executable, "-m", "tuneforge.cli", "preview", f"hydra.run.dir={tmp_path / 'run'}",
                           *overrides], capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})


def test_jsonl_prints_only_records_on_stdout(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in CHAT))
    out = preview(tmp_path, "data=dialogue", f"data.path={path}", "data.val_fraction=0", "loss_mask=last_turn",
                  "preview.format=jsonl", "preview.limit=2")
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    tok = byte_tokenizer()
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"input_ids", "labels"} and len(record["input_ids"]) == len(record["labels"])
        trained = [t for t, label in zip(record["input_ids"], record["labels"]) if label != -100]
        assert tok.decode(trained) == "ciao<|im_end|>"  # last_turn on the byte tokenizer's chat template
    assert "rejected" in out.stderr and "data: read 5, kept 4, rejected 1" in out.stderr


def test_rich_preview_with_a_separate_tokenizer_dir(tmp_path):
    tok_dir = tmp_path / "bpe"
    bpe_tokenizer().save_pretrained(tok_dir)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in CHAT[:4]))
    out = preview(tmp_path, "model=hf", f"model.name_or_path={model_dir}", f"model.tokenizer={tok_dir}",
                  "data=dialogue", f"data.path={path}", "data.val_fraction=0", "loss_mask=multi_turn",
                  "preview.limit=1")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "example 0" in out.stdout and "trained" in out.stdout and "hello there" in out.stdout
    assert "template=chat_template" in out.stdout
    for count in ("examples", "trained tokens", "truncated", "records read"):
        assert count in out.stderr

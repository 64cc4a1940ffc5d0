"""recipes/smollm2_lora.yaml: what it selects, that its generation budget fits every reference reply, and
a scaled-down run through the CLI that ends with exact match before and after in metrics.json."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.real.conftest import requires_smollm2


def test_recipe_selects_the_real_model_its_template_and_mask(compose):
    cfg = compose("train", ["recipe=smollm2_lora"], return_hydra_config=True)
    assert (cfg.model.name, cfg.data.name, cfg.template.name, cfg.loss_mask.name, cfg.peft.name) == (
        "smollm2_135m", "json_extract", "auto", "multi_turn", "lora")
    assert list(cfg.peft.target_modules) == ["q_proj", "v_proj"] and cfg.eval.enabled and cfg.eval.before
    env = cfg.hydra.job.env_set
    assert env.OMP_NUM_THREADS == os.environ.get("OMP_NUM_THREADS", "1")


@pytest.mark.slow
@requires_smollm2
def test_max_new_tokens_and_max_length_fit_the_data(compose, smollm2_dir):
    from transformers import AutoTokenizer

    from tuneforge import binding
    from tuneforge.render.encode import encode

    cfg = compose("train", ["recipe=smollm2_lora"])
    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    node = {k: v for k, v in dict(cfg.data).items() if k in ("name", "num_train", "num_val", "num_test",
                                                              "held_out_names", "held_out_cities")}
    splits = binding.build("data_builder", {**node, "seed": cfg.seed}, "data").build()
    template = binding.build("template", dict(cfg.template), "template", tokenizer=tok)
    masker = binding.build("loss_masker", dict(cfg.loss_mask), "loss_mask")
    replies = [len(tok(ex.reference, add_special_tokens=False)["input_ids"]) for ex in splits["test"]]
    assert max(replies) + 1 <= cfg.eval.max_new_tokens  # the reply and its <|im_end|>
    lengths = [len(encode(ex, tok, template, masker, 10_000).input_ids) for ex in splits["train"]]
    assert max(lengths) <= cfg.data.max_length  # nothing truncated


@pytest.mark.slow
@requires_smollm2
def test_scaled_down_recipe_run_writes_before_and_after(smollm2_dir, tmp_path):
    run_dir = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "tuneforge.cli", "train", "recipe=smollm2_lora", f"model.cache_dir={smollm2_dir}",
         "trainer.max_steps=2", "trainer.val_check_interval=null", "data.num_train=16", "data.num_val=4",
         "data.num_test=4", "eval.max_new_tokens=8", "callbacks=none", "logger=none", "checkpoint.enabled=false",
         "+trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 2 and metrics["exact_match_before"] == 0.0
    assert 0.0 <= metrics["exact_match_after"] <= 1.0
    assert metrics["params/trainable"] == 460_800  # r 8 on q (576x576) and v (576x192) in 30 layers
    assert (run_dir / "adapter" / "adapter_config.json").is_file()

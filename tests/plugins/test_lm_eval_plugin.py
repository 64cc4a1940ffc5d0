"""The lm-evaluation-harness plugin, installed for real: local YAML + JSONL tasks (generate_until and
multiple_choice) evaluated offline through `tuneforge eval`; its multiple-choice accuracy equals a
direct log-likelihood computation."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.conftest import install_plugin, plugin_env

pytest.importorskip("lm_eval")
PLUGIN_SRC = Path(__file__).parents[2] / "plugins" / "tuneforge-lm-eval"
DOCS = [{"prompt": f"{task} {word}", "answer": answer, "choices": [answer, wrong], "gold": 0}
        for task, word, answer, wrong in [("reverse", "abc", "cba", "abc"), ("upper", "dog", "DOG", "dog"),
                                          ("sort", "cab", "abc", "bca"), ("reverse", "xyz", "zyx", "xzy")]]


def write_tasks(root: Path) -> Path:
    data = root / "rules.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    common = (f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n"
              "doc_to_text: \"{{prompt}}\\n\"\n")
    (root / "tf_gen.yaml").write_text(
        "task: tf_gen\n" + common + "output_type: generate_until\ndoc_to_target: \"{{answer}}\"\n"
        "generation_kwargs:\n  until: [\"<|im_end|>\", \"\\n\"]\n  max_gen_toks: 8\n  do_sample: false\n"
        "filter_list:\n  - name: strip\n    filter:\n      - function: remove_whitespace\n      - function: take_first\n"
        "metric_list:\n  - metric: exact_match\n")
    (root / "tf_mc.yaml").write_text(
        "task: tf_mc\n" + common + "output_type: multiple_choice\ndoc_to_choice: \"{{choices}}\"\n"
        "doc_to_target: \"{{gold}}\"\ntarget_delimiter: \"\"\nmetric_list:\n  - metric: acc\n")
    return root


def expected_mc_accuracy() -> float:
    """argmax over choices of log p(choice | prompt), without EOS, on the seeded tiny model."""
    import lightning.pytorch as pl
    import torch

    from tuneforge import binding

    pl.seed_everything(42, verbose=False)
    model, tok = binding.build("model", {"name": "tiny", "hidden_size": 32, "num_layers": 1, "num_heads": 2,
                                          "intermediate_size": 64}, "model").build()
    model.eval()
    hits = 0
    for doc in DOCS:
        ctx = tok(doc["prompt"] + "\n", add_special_tokens=False)["input_ids"]
        scores = []
        for choice in doc["choices"]:
            cont = tok(choice, add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=torch.tensor([ctx + cont])).logits[0], -1)
            scores.append(sum(logp[len(ctx) + j - 1, t].item() for j, t in enumerate(cont)))
        hits += int(max(range(len(scores)), key=scores.__getitem__) == doc["gold"])
    return hits / len(DOCS)


def test_local_tasks_offline_through_tuneforge_eval(tmp_path_factory, tmp_path):
    site = install_plugin(PLUGIN_SRC, tmp_path_factory)
    tasks = write_tasks(tmp_path_factory.mktemp("tasks"))
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "eval", f"hydra.run.dir={tmp_path}",
                          "model.hidden_size=32", "model.num_layers=1", "model.num_heads=2",
                          "model.intermediate_size=64", "data.num_test=4", "metrics=[lm_eval]",
                          "metrics.lm_eval.tasks=[tf_gen,tf_mc]", f"metrics.lm_eval.include_path={tasks}",
                          "metrics.lm_eval.max_length=256"],
                         capture_output=True, text=True, env=plugin_env(site) | {"HF_DATASETS_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-4000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0.0 <= metrics["eval/lm_eval/tf_gen/exact_match"] <= 1.0
    assert metrics["eval/lm_eval/tf_mc/acc"] == pytest.approx(expected_mc_accuracy())

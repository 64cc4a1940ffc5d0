"""plugins/tuneforge-example installed for real (pip, into a separate --target directory): its four
components appear in `tuneforge ls` with the plugin as provider, are selectable by override (train
with its PEFT method and data builder, evaluate the run, generate with its filter and evolution
operator), pass the plugin's own unit tests; without it on the path they are gone."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM

PLUGIN_SRC = Path(__file__).resolve().parents[2] / "plugins" / "tuneforge-example"
TUNEFORGE = [sys.executable, "-m", "tuneforge.cli"]
COMPONENTS = {"qa_text": "data_builder", "no_urls": "filter", "audience": "evolution_op", "bitfit": "peft"}
SMALL = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.intermediate_size=64",
         "callbacks=none", "logger=none", "checkpoint.enabled=false"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("example_site")
    src = tmp_path_factory.mktemp("example_src") / PLUGIN_SRC.name
    shutil.copytree(PLUGIN_SRC, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True, cwd=src,
                   env={**os.environ, "PIP_NO_CACHE_DIR": "1"})
    assert list(site.glob("tuneforge_example-*.dist-info"))
    assert not (PLUGIN_SRC / "build").exists(), "the build must not land in the checkout"
    return site


def run(args: list[str], site: Path | None, cwd: Path, timeout: int = 180, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "COLUMNS": "250", **env}
    environ.pop("PYTHONPATH", None)
    if site is not None:
        environ["PYTHONPATH"] = str(site)
    return subprocess.run(args, capture_output=True, text=True, env=environ, cwd=cwd, timeout=timeout)


def qa_file(path: Path, n: int = 30) -> Path:
    import random
    import string

    rng = random.Random(0)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 6))) for _ in range(n)]
    path.write_text("".join(f"Q: reverse {w}\nA: {w[::-1]}\n\n" for w in words))
    return path


def test_installed_components_are_listed_with_the_plugin_as_provider(site, tmp_path):
    out = run([*TUNEFORGE, "ls"], site, tmp_path)
    assert out.returncode == 0, out.stderr
    for name, kind in COMPONENTS.items():
        assert re.search(rf"│ {name}\s+│ {kind}\s+│ tuneforge-example\s+│ \S", out.stdout), name
    assert "failed to load" not in out.stdout


def test_without_the_plugin_its_components_and_configs_are_gone(tmp_path):
    out = run([*TUNEFORGE, "ls"], None, tmp_path)
    assert out.returncode == 0 and "tuneforge-example" not in out.stdout
    assert not any(re.search(rf"│ {name}\s+│", out.stdout) for name in COMPONENTS)
    bad = run([*TUNEFORGE, "validate", "peft=bitfit"], None, tmp_path)
    assert bad.returncode != 0 and "Could not find 'peft/bitfit'" in bad.stderr


@pytest.mark.slow
def test_trains_with_its_peft_method_and_data_builder_then_evaluates(site, tmp_path):
    run_dir = tmp_path / "run"
    out = run([*TUNEFORGE, "train", "peft=bitfit", "data=qa_text", f"data.path={qa_file(tmp_path / 'faq.txt')}",
               "data.batch_size=8", "trainer.max_steps=3", "optimizer.lr=5e-2", "scheduler=constant",
               "eval.before=false", *SMALL, f"hydra.run.dir={run_dir}"], site, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 3
    assert metrics["params/trainable"] == 2 * (4 * 32 + 2 * 64 + 32)  # one bias per linear layer, 2 layers
    assert metrics["data/train/kept"] == 27 and metrics["data/val/kept"] == 3  # val_fraction 0.1 of 30
    saved = json.loads((run_dir / "bitfit" / "bitfit_config.json").read_text())
    assert len(saved["added"]) == 14 and all(p.endswith(".bias") for p in saved["parameters"])
    assert "name: bitfit" in (run_dir / "config.yaml").read_text()
    # `tuneforge eval` rebuilds the model and loads the biases through the plugin's `load`
    ev = run([*TUNEFORGE, "eval", f"run={run_dir}", f"hydra.run.dir={tmp_path / 'eval'}"], site, tmp_path)
    assert ev.returncode == 0, ev.stderr[-3000:]
    assert len((tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()) == 3


def test_generates_with_its_filter_and_evolution_operator(site, tmp_path):
    base = SyntheticLLM(seed=4)
    responses = iter(range(10**6))

    def reply(req: dict) -> str:
        text = base(req)
        prompt = req["prompt"]
        if not prompt.startswith(("I want you act", "Here are two Instructions")) and next(responses) % 2:
            text += " More at https://example.com/info."  # every other answer gets a link: no_urls drops it
        return text

    source = tmp_path / "source.jsonl"
    source.write_text("".join(json.dumps({"instruction": f"Describe the {w} in detail.", "input": "",
                                          "output": "ok"}) + "\n" for w in ("river", "comet", "violin", "harbor")))
    run_dir = tmp_path / "gen"
    with OpenAITestServer(reply=reply) as server:
        out = run([*TUNEFORGE, "generate", "pipeline=evol_instruct", "evolution=[audience]",
                   "filters=[no_urls,dedup_exact]", f"pipeline.source={source}", "pipeline.rounds=1",
                   f"llm.base_url={server.base_url}", "llm.model=scripted", "llm.backoff_base=0.01",
                   f"hydra.run.dir={run_dir}"], site, tmp_path, OPENAI_API_KEY="sk-test")
    assert out.returncode == 0, out.stderr[-3000:]
    kept = [json.loads(ln) for ln in (run_dir / "generated.jsonl").read_text().splitlines()]
    rejects = [json.loads(ln) for ln in (run_dir / "rejects.jsonl").read_text().splitlines()]
    assert kept and all(r["lineage"]["operator"] == "audience" for r in kept)
    assert not any("https://" in r["output"] for r in kept)
    dropped = [r for r in rejects if r["filter"] == "no_urls"]
    assert dropped and all("contains a URL (https://example.com/info.)" in r["reason"] for r in dropped)


def test_the_plugins_own_unit_tests_pass(site, tmp_path):
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN_SRC / "tests")], site,
              tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "5 passed" in out.stdout


def test_a_stage_selecting_the_plugins_data_option_gets_its_loader_keys(site, tmp_path):
    """Stage options are composed through Hydra's search path, so a plugin's data option counts (the top-level
    data=rules sets max_length 64; the plugin's qa_text option sets 512)."""
    code = ("from tuneforge.config.app import compose, with_run_dir; from tuneforge.config.assemble import assemble; "
            "cfg = compose('train', ['stages=[{data: {name: qa_text, path: faq.txt}}, {max_steps: 2}]']); "
            "print([(type(s.data).__name__, s.settings.max_length) for s in assemble('train', with_run_dir(cfg)).stages])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(site)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "[('QAText', 512), ('RuleTasks', 64)]" in out.stdout

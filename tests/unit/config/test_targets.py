"""`_target_` builds only classes of the bases allowed where the node stands (or registered config factories):
no callable from a config, a recipe, an override or Hydra's own node runs code the user did not ask for."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuneforge.config.targets import check_targets
from tuneforge.errors import ConfigError


def hub_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A directory whose hubconf.py leaves a marker file when imported (what torch.hub.load would run)."""
    repo, marker = tmp_path / "repo", tmp_path / "ran.txt"
    repo.mkdir()
    (repo / "hubconf.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\ndef model():\n    return 1\n")
    return repo, marker


@pytest.mark.parametrize("node,message", [
    ({"callbacks": {"x": {"_target_": "torch.hub.load", "repo_or_dir": "d", "source": "local"}}},
     "not a class that `callbacks` takes"),
    ({"optimizer": {"_target_": "torch.load", "f": "x.pt"}}, "not a class that `optimizer` takes"),
    ({"trainer": {"_target_": "torch.utils.cpp_extension.load_inline", "name": "x"}}, "not a class"),
    ({"optimizer": {"_target_": "os.system", "command": "true"}}, "is not allowed; _target_ must start"),
    ({"trainer": {"_target_": "torch.optim.AdamW"}}, "not a subclass of lightning.pytorch.Trainer"),
    ({"data": {"_target_": "lightning.pytorch.Trainer"}}, "allowed only under"),
    ({"logger": {"a": {"_target_": "tuneforge.lightning.callbacks.progress_bar"}}}, "config_factory('logger')"),
    ({"hydra": {"callbacks": {"x": {"_target_": "torch.hub.load"}}}}, "`hydra.callbacks` takes"),
])
def test_refused_with_its_path(node, message):
    with pytest.raises(ConfigError) as err:
        check_targets(node)
    assert len(err.value.issues) == 1 and message in str(err.value)
    assert err.value.issues[0].path.endswith("_target_")


@pytest.mark.parametrize("node", [
    {"trainer": {"_target_": "lightning.pytorch.Trainer"}, "optimizer": {"_target_": "torch.optim.SGD"}},
    {"callbacks": {"lr": {"_target_": "lightning.pytorch.callbacks.LearningRateMonitor"},
                   "bar": {"_target_": "tuneforge.lightning.callbacks.progress_bar"}}},
    {"logger": {"csv": {"_target_": "lightning.pytorch.loggers.CSVLogger"},
                "tb": {"_target_": "tuneforge.lightning.loggers.tensorboard_logger"}}},
    {"hydra": {"callbacks": {"s": {"_target_": "tuneforge.reports.sweep_summary.SweepSummary"}}}},
])
def test_allowed(node):
    check_targets(node)


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None,
                    reason="needs the sweep extra")
def test_the_optuna_sweeper_and_its_sampler_are_allowed(compose):
    from tuneforge.config.app import check_hydra_targets

    check_hydra_targets("train", ["hparams_search=optuna_lr"])


def test_no_route_runs_a_hubconf(tmp_path):
    """An override, a recipe file in the config search path and Hydra's own callbacks: all refused before
    anything is imported from the directory (the hubconf's marker file never appears)."""
    repo, marker = hub_repo(tmp_path)
    hub = ["_target_=torch.hub.load", f"repo_or_dir={repo}", "source=local", "model=model"]
    routes = [
        ["validate", *[f"+callbacks.x.{kv}" for kv in hub]],
        ["train", *[f"+callbacks.x.{kv}" for kv in hub], f"hydra.run.dir={tmp_path / 'a'}"],
        ["train", *[f"+hydra.callbacks.x.{kv}" for kv in hub], f"hydra.run.dir={tmp_path / 'b'}"],
    ]
    for args in routes:
        out = subprocess.run([sys.executable, "-m", "tuneforge.cli", *args], capture_output=True, text=True,
                             env={**os.environ, "COLUMNS": "200"}, timeout=120)
        assert out.returncode == 2, (args, out.stderr[-2000:])
        assert "_target_" in out.stderr and "Traceback" not in out.stderr
        assert not marker.exists(), f"{args[0]} ran the hubconf"


def test_trust_remote_code_only_from_this_command_line():
    from tuneforge.config.assemble import remote_code_issues

    node = {"model": {"name": "hf", "trust_remote_code": True}, "llm": {"trust_remote_code": False}}
    assert [i.path for i in remote_code_issues(node, [])] == ["model.trust_remote_code"]
    assert remote_code_issues(node, ["model.trust_remote_code=true"]) == []
    assert [i.path for i in remote_code_issues(node, ["llm.trust_remote_code=true"])] == ["model.trust_remote_code"]


def test_a_config_file_cannot_turn_on_remote_code(compose):
    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble

    cfg = with_run_dir(compose("train", ["model=hf", "model.name_or_path=gpt2"]))
    cfg.model.trust_remote_code = True  # as a recipe or a --config-dir file would have it
    with pytest.raises(ConfigError) as err:
        assemble("train", cfg, overrides=[])
    assert [i.path for i in err.value.issues] == ["model.trust_remote_code"]


def test_eval_refuses_a_run_directory_that_asks_for_remote_code(tmp_path, capsys):
    from tuneforge.commands.validate import validate

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 1\nmodel: {name: hf, name_or_path: %s, trust_remote_code: true}\n"
                                     "peft: {name: full}\ndata: {name: rules}\n" % run)
    with pytest.raises(ConfigError) as err:
        validate([f"run={run}"], "eval")
    assert "trust_remote_code" in str(err.value) and "config.yaml" in str(err.value)
    (run / "config.yaml").write_text("seed: 1\nmodel: {name: tiny}\npeft: {name: full}\n"
                                     "data: {name: rules, _target_: torch.hub.load}\n")
    with pytest.raises(ConfigError) as err:
        validate([f"run={run}"], "eval")
    assert "data._target_" in str(err.value)

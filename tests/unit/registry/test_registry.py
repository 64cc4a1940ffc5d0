"""Registry: unknown names, duplicates, binding errors with config paths, lazy imports."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tuneforge import binding, registry
from tuneforge.errors import ConfigError, DuplicateComponentError, UnknownComponentError


def test_unknown_name_lists_known_and_closest():
    with pytest.raises(UnknownComponentError) as err:
        registry.get("peft", "lorra")
    msg = str(err.value)
    assert "Did you mean 'lora'?" in msg
    assert "full" in msg and "lora" in msg


def test_unknown_name_reports_failed_plugins(monkeypatch):
    monkeypatch.setitem(registry._state.failed_plugins, "broken (tuneforge-broken)", "ImportError: boom")
    with pytest.raises(UnknownComponentError, match="Plugins that failed to load: broken"):
        registry.get("scheduler", "nope")


def test_duplicate_names_both_providers():
    @registry.register("metric", "dup_test_metric")
    class First:
        pass

    with registry.provider_scope("other-package"):
        with pytest.raises(DuplicateComponentError) as err:
            @registry.register("metric", "dup_test_metric")
            class Second:
                pass
    assert "tuneforge" in str(err.value) and "other-package" in str(err.value)
    registry._state.entries.pop(("metric", "dup_test_metric"))


def test_unknown_kind_rejected():
    with pytest.raises(ValueError, match="unknown component kind"):
        registry.register("optimiser", "x")


def test_bind_reports_every_problem_with_its_path():
    with pytest.raises(ConfigError) as err:
        binding.bind("peft", {"name": "lora", "rr": 4, "alpha": "big", "dropout": 0.1}, "peft")
    paths = {issue.path for issue in err.value.issues}
    assert paths == {"peft.rr", "peft.alpha"}
    text = str(err.value)
    assert "Did you mean 'r'?" in text and "expected int" in text


def test_bind_missing_required_key():
    with pytest.raises(ConfigError, match=r"model.name_or_path: missing required key"):
        binding.bind("model", {"name": "hf"}, "model")


def test_bind_unknown_component_is_a_config_error():
    with pytest.raises(ConfigError, match=r"scheduler.name: unknown scheduler 'cosine'"):
        binding.bind("scheduler", {"name": "cosine"}, "scheduler")


@pytest.mark.parametrize("value,tp,ok", [
    (1, int, True), (True, int, False), (1, float, True), ("a", float, False),
    (None, "int | None", True), ([1, 2], "list[int]", True), ([1, "a"], "list[int]", False),
    ("x", "list[str] | str", True), ("sdpa", "Literal['sdpa', 'eager']", True),
    ("flash", "Literal['sdpa', 'eager']", False),
])
def test_check_type(value, tp, ok):
    from typing import Literal  # noqa: F401 (used by eval)

    hint = eval(tp) if isinstance(tp, str) else tp
    assert binding.check_type(value, hint) is ok


@pytest.mark.parametrize("action", [
    "from tuneforge import registry; registry.load_all(); assert len(registry.entries()) > 5",
    # the CLI's fast path: `tuneforge --help` and `tuneforge ls` (every component, discovered plugins too)
    "from tuneforge.cli import main; main(['--help'])",
    "from tuneforge.cli import main; main(['ls'])",
], ids=["load_all", "cli --help", "cli ls"])
def test_fast_paths_import_no_heavy_library(action):
    code = (f"import sys; {action}; "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'lightning', 'bitsandbytes') "
            "if m in sys.modules]; print(heavy); assert not heavy, heavy")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]

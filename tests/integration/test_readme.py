"""The README starts with exactly two commands; .ci/run runs the second (the tests)."""
from __future__ import annotations

import re

from tuneforge.config.paths import ROOT


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [ln for block in blocks[:2] for ln in block.splitlines() if ln and not ln.startswith("#")]


def test_readme_has_two_commands_first_quickstart_then_tests():
    first, second = readme_commands()
    assert first.endswith("tuneforge train")
    assert "pytest" in second


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci
    assert '"$rc" -eq 5' in ci

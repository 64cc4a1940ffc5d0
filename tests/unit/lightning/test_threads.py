"""`threads`: auto (the cores idle at the start, OpenMP workers that sleep unless two are idle) or a count."""
from __future__ import annotations

import functools
import os

import pytest
import torch

from tuneforge import threads
from tuneforge.threads import idle_cores, set_openmp_waiting, threads_issue, use_threads


@pytest.fixture
def restore_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "torch_default_threads", functools.cache(lambda: 4))
    yield before
    torch.set_num_threads(before)


@pytest.mark.parametrize("idle, expected", [(0, 1), (1, 1), (3, 3), (9, 4), (None, 4)])
def test_auto_uses_the_idle_cores_within_torchs_default(restore_threads, monkeypatch, idle, expected):
    monkeypatch.setattr(threads, "idle_cores", lambda: idle)
    assert use_threads("auto") == expected
    assert torch.get_num_threads() == expected


def test_auto_does_not_inherit_an_earlier_jobs_count(restore_threads, monkeypatch):
    """The jobs of a multirun share one process: a `threads=1` job must not decide a later `auto` job's count."""
    monkeypatch.setattr(threads, "idle_cores", lambda: 3)
    assert use_threads(1) == 1
    assert use_threads("auto") == 3


def test_a_count_is_used_as_given(restore_threads):
    assert use_threads(1) == 1
    assert use_threads(2) == 2


def test_idle_cores_is_measured_within_the_cores_this_process_may_use():
    idle = idle_cores.__wrapped__(0.05)
    assert idle is not None and 0 <= idle <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("idle, env", [(2, {"GOMP_SPINCOUNT": "3000"}), (1, {"OMP_WAIT_POLICY": "PASSIVE"}),
                                       (None, {"OMP_WAIT_POLICY": "PASSIVE"})])
def test_openmp_workers_spin_briefly_only_when_two_cores_are_idle(monkeypatch, idle, env):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.setattr(threads, "idle_cores", lambda: idle)
    set_openmp_waiting()
    assert {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ} == env


def test_the_users_openmp_setting_is_kept(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.setattr(threads, "idle_cores", lambda: 2)
    set_openmp_waiting()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE" and "GOMP_SPINCOUNT" not in os.environ


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, True, None])
def test_bad_values_are_named(value):
    assert "expected auto or a number of threads >= 1" in threads_issue(value)


@pytest.mark.parametrize("value", ["auto", 1, 4])
def test_good_values_pass(value):
    assert threads_issue(value) is None


def test_a_bad_threads_value_is_a_config_issue_listed_with_the_others(capsys):
    """`validate` reports it (the assembler checks it), beside the config's other problems."""
    from tuneforge.commands.validate import validate
    from tuneforge.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        validate(["threads=0", "data.batch_size=0"])
    assert {i.path for i in err.value.issues} == {"threads", "data.batch_size"}
    assert "threads: expected auto or a number of threads >= 1, got 0" in str(err.value)
    assert "config OK" not in capsys.readouterr().out

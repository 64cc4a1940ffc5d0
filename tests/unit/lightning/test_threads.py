"""`threads`: auto (one thread for a small model, torch's default otherwise) or a count; bad values refused."""
from __future__ import annotations

import functools

import pytest
import torch

from tuneforge.lightning import fit
from tuneforge.lightning.fit import ONE_THREAD_BELOW, threads_issue, use_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_auto_uses_one_thread_for_a_small_model_and_keeps_the_default_otherwise(restore_threads):
    assert use_threads("auto", ONE_THREAD_BELOW + 1) == fit.torch_default_threads()
    assert use_threads("auto", 1_000_000) == 1
    assert torch.get_num_threads() == 1


def test_auto_does_not_inherit_an_earlier_jobs_count(restore_threads, monkeypatch):
    """The jobs of a multirun share one process: a tiny-model job (1 thread) or a `threads=1` job must not
    decide the count of a later `auto` job on a large model."""
    monkeypatch.setattr(fit, "torch_default_threads", functools.cache(fit.torch_default_threads.__wrapped__))
    torch.set_num_threads(2)  # torch's default in this process
    assert use_threads("auto", 1_000_000) == 1  # job 1: a tiny model
    assert use_threads("auto", ONE_THREAD_BELOW + 1) == 2  # job 2: a large model gets the default back
    assert use_threads(1, ONE_THREAD_BELOW + 1) == 1  # job 3: threads=1
    assert use_threads("auto", ONE_THREAD_BELOW + 1) == 2


def test_a_count_is_used_as_given(restore_threads):
    assert use_threads(1, 10**9) == 1
    assert use_threads(2, 10) == 2


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

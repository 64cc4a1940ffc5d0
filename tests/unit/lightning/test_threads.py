"""`threads`: auto (one thread for a small model, torch's default otherwise) or a count; bad values refused."""
from __future__ import annotations

import pytest
import torch

from tuneforge.lightning.fit import ONE_THREAD_BELOW, threads_issue, use_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_auto_uses_one_thread_for_a_small_model_and_keeps_the_default_otherwise(restore_threads):
    assert use_threads("auto", ONE_THREAD_BELOW + 1) == restore_threads
    assert use_threads("auto", 1_000_000) == 1
    assert torch.get_num_threads() == 1


def test_a_count_is_used_as_given(restore_threads):
    assert use_threads(1, 10**9) == 1
    assert use_threads(2, 10) == 2


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, True, None])
def test_bad_values_are_named(value):
    assert "expected auto or a number of threads >= 1" in threads_issue(value)


@pytest.mark.parametrize("value", ["auto", 1, 4])
def test_good_values_pass(value):
    assert threads_issue(value) is None


def test_train_refuses_a_bad_threads_value_before_any_work(tmp_path):
    from tuneforge.commands.train import train
    from tuneforge.config.app import compose, with_run_dir
    from tuneforge.errors import ConfigError

    cfg = with_run_dir(compose("train", ["threads=0", f"run_dir={tmp_path / 'run'}"]))
    with pytest.raises(ConfigError, match="threads: expected auto or a number of threads >= 1, got 0"):
        train(cfg)
    assert not (tmp_path / "run" / "config.yaml").exists()

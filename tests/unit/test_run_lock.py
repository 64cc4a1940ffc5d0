"""One process per run directory: a second `tuneforge train` (or generate, eval) into a directory in use is
refused with one line naming the holder; a holder killed with SIGKILL leaves no stale lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tuneforge.artifacts import RunLock
from tuneforge.errors import TuneforgeError

HOLD = "import sys, time\nfrom tuneforge.artifacts import RunLock\nwith RunLock(sys.argv[1], 'train'):\n" \
       "    print('locked', flush=True)\n    time.sleep(60)\n"


def test_a_second_holder_is_refused_with_the_holders_name(tmp_path):
    with RunLock(tmp_path, "train"):
        with pytest.raises(TuneforgeError, match=rf"in use by tuneforge train \(pid {os.getpid()}"):
            with RunLock(tmp_path, "generate"):
                pass
    with RunLock(tmp_path, "generate"):  # released at exit
        pass


def test_the_cli_refuses_a_run_directory_in_use(tmp_path):
    with RunLock(tmp_path, "train"):
        out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={tmp_path}",
                              "trainer.max_steps=1"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"the run directory {tmp_path} is in use by tuneforge train" in out.stderr
    assert not (tmp_path / "config.yaml").exists()  # refused before writing anything


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(TuneforgeError):
        with RunLock(tmp_path, "train"):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    with RunLock(tmp_path, "train"):
        pass

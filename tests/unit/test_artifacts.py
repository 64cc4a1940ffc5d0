"""Atomic writes and secret redaction in saved configs."""
from __future__ import annotations

import os

import yaml
from omegaconf import OmegaConf

from tuneforge.artifacts import redacted, write_json, write_resolved_config


def test_env_interpolations_and_secret_keys_are_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_TEST_KEY", "sk-very-secret-123")
    cfg = OmegaConf.create({
        "llm": {"api_key": "${oc.env:TF_TEST_KEY}", "api_key_env": "TF_TEST_KEY", "model": "m"},
        "logger": {"wandb": {"token": "abc", "project": "p"}},
        "headers": ["${oc.env:TF_TEST_KEY}", "plain"],
        "optimizer": {"lr": 0.1},
    })
    out = redacted(cfg)
    assert out["llm"]["api_key"] == "<redacted: ${oc.env:TF_TEST_KEY}>"
    assert out["llm"]["api_key_env"] == "TF_TEST_KEY" and out["llm"]["model"] == "m"
    assert out["logger"]["wandb"]["token"] == "<redacted>"
    assert out["headers"] == ["<redacted: ${oc.env:TF_TEST_KEY}>", "plain"]
    assert out["optimizer"]["lr"] == 0.1
    path = write_resolved_config(cfg, tmp_path / "config.yaml")
    assert "sk-very-secret-123" not in path.read_text()
    assert yaml.safe_load(path.read_text())["optimizer"]["lr"] == 0.1


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path):
    write_json(tmp_path / "m.json", {"a": 1})
    write_json(tmp_path / "m.json", {"a": 2})
    assert (tmp_path / "m.json").read_text().strip() == '{\n  "a": 2\n}'
    assert os.listdir(tmp_path) == ["m.json"]


def test_disk_full_and_permission_errors_are_clear(tmp_path, monkeypatch):
    import errno

    import pytest

    from tuneforge.errors import TuneforgeError

    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(TuneforgeError, match=r"cannot write .*m\.json: No space left on device \(disk full\)"):
        write_json(tmp_path / "m.json", {"a": 1})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert os.listdir(tmp_path) == []  # the temp file is gone
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TuneforgeError, match="cannot write .*file/m.json: "):
        write_json(blocker / "m.json", {"a": 1})


def test_write_bytes_is_atomic_and_removes_its_temp_file_on_any_error(tmp_path, monkeypatch):
    import pytest

    from tuneforge.artifacts import write_bytes

    assert write_bytes(tmp_path / "e.bin", b"\x00\xffold").read_bytes() == b"\x00\xffold"

    def interrupted(fd):
        raise KeyboardInterrupt  # not an OSError: raised as it is, the target and the directory untouched

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bytes(tmp_path / "e.bin", b"new")
    assert os.listdir(tmp_path) == ["e.bin"] and (tmp_path / "e.bin").read_bytes() == b"\x00\xffold"

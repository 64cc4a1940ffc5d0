"""The likeliest first mistakes get one line naming the fix, and a copied config is usable as documented:
`tuneforge cp peft/lora my_lora.yaml` then `--config-dir . peft=my_lora` (validate and the apps' checks)."""
from __future__ import annotations

import pytest

from tuneforge.commands import cp
from tuneforge.commands.validate import validate
from tuneforge.errors import ConfigError, TuneforgeError


def test_cp_then_config_dir_selects_the_copy(tmp_path, monkeypatch, capsys, compose):
    from tuneforge.config.app import extra_config_dirs

    monkeypatch.chdir(tmp_path)
    cp.main(["peft/lora", "my_lora.yaml"])
    assert "tuneforge train --config-dir . peft=my_lora" in capsys.readouterr().out
    copy = tmp_path / "peft" / "my_lora.yaml"
    copy.write_text(copy.read_text().replace("name: lora\n", "name: lora\nr: 3\n"))
    validate(["--config-dir", ".", "peft=my_lora", "peft.alpha=6"])
    assert "config OK (train)" in capsys.readouterr().out
    with extra_config_dirs([tmp_path]):
        assert compose("train", ["peft=my_lora"]).peft.r == 3  # the edit is what is composed
    cp.main(["alpaca_lora", "."])  # a recipe into a directory: recipe/my_alpaca_lora.yaml
    with pytest.raises(TuneforgeError, match=r"no recipe option 'my_alpaca_lor'. Did you mean 'my_alpaca_lora'"):
        validate([f"--config-dir={tmp_path}", "recipe=my_alpaca_lor"])
    validate(["-cd", str(tmp_path), "recipe=my_alpaca_lora"])


def test_config_dir_mistakes(tmp_path):
    with pytest.raises(TuneforgeError, match=r"--config-dir nope: no such directory"):
        validate(["--config-dir", "nope", "peft=lora"])
    (tmp_path / "peft").mkdir()
    (tmp_path / "peft" / "lora.yaml").write_text("name: lora\nr: 3\n")
    with pytest.raises(TuneforgeError, match=r"peft/lora.yaml: a built-in peft option has this name and wins over "
                                             r"it; rename it .* and select peft=my_lora"):
        validate(["--config-dir", str(tmp_path), "peft=lora"])
    with pytest.raises(TuneforgeError, match=r"validate takes --config-dir DIR and overrides, not --cfg job"):
        validate(["--cfg", "job"])


@pytest.mark.parametrize("overrides,message", [
    (["data.path=x.json"], r"^data.path=x.json: the selected data option has no key 'path' .* choose the format "
                           r"of your records first: data=alpaca .* e.g. data=alpaca data.path=x.json$"),
    (["data.path=chats.jsonl"], r"e.g. data=dialogue data.path=chats.jsonl$"),
])
def test_a_data_key_without_a_data_option(overrides, message):
    with pytest.raises(TuneforgeError, match=message):
        validate(overrides)


def test_model_hf_without_a_name():
    with pytest.raises(ConfigError) as err:
        validate(["model=hf"])
    assert [(i.path, i.message) for i in err.value.issues] == [
        ("model.name_or_path", "not set: model=hf needs the model, a local directory or a hub id: "
                               "model.name_or_path=DIR")]


def test_app_checks_see_the_config_dir(tmp_path):
    """run_app's checks before Hydra: an option of a user directory is known, a typo is still caught, and a
    data key alone is one line (not Hydra's 'not in struct')."""
    from tuneforge.config.app import run_app

    (tmp_path / "recipe").mkdir()
    (tmp_path / "recipe" / "mine.yaml").write_text("# @package _global_\nseed: 3\n")
    with pytest.raises(TuneforgeError, match=r"no recipe option 'mien'. Did you mean 'mine'"):
        run_app("train", lambda cfg: None, ["--config-dir", str(tmp_path), "recipe=mien"])
    with pytest.raises(TuneforgeError, match=r"data.path=x.json: the selected data option has no key 'path'"):
        run_app("train", lambda cfg: None, ["data.path=x.json"])

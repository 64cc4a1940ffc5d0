"""YAML and Python cannot drift: an option YAML holds only what differs from its component's signature
defaults, and the option as Hydra composes it is exactly those defaults overlaid with the YAML's own
values, so every key is in the composed config (overridable without `+`). The loader keys of the
train / preview / eval configs are LoaderSettings' defaults."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.configs.test_compose_every_option import option_files
from tuneforge.config.app import compose_option
from tuneforge.config.paths import CONF_DIR
from tuneforge.config.signature_defaults import LOADER_NODE, option_aliases, signature_defaults
from tuneforge.data.base import LoaderSettings
from tuneforge.registry import GROUP_OF_KIND, KINDS, get

KIND_OF_GROUP = {GROUP_OF_KIND[k]: k for k in KINDS}
#: Groups of `_target_` nodes (classes from outside tuneforge, values pinned on purpose: a new torch or
#: Lightning release must not change a run) and of global overrides: no registered signature to follow.
NOT_COMPONENTS = {"callbacks", "logger", "optimizer", "trainer", "hparams_search", "hydra/launcher"}
COMPONENT_OPTIONS = [(g, o) for g, o in option_files() if g in KIND_OF_GROUP]


def own_values(group: str, option: str) -> dict:
    """What the option's YAML file itself sets (its defaults list aside)."""
    node = yaml.safe_load((CONF_DIR / group / f"{option}.yaml").read_text()) or {}
    node.pop("defaults", None)
    return node


def signature_node(group: str, option: str) -> dict:
    entry = get(KIND_OF_GROUP[group], own_values(group, option)["name"])
    return {"name": entry.name, **signature_defaults(entry.obj)}


def composed(group: str, option: str) -> dict:
    node = compose_option(group, option)
    text = (CONF_DIR / group / f"{option}.yaml").read_text()
    return node[option] if text.startswith(f"# @package {group}.{option}\n") else node


def test_every_group_is_a_component_group_or_declared_otherwise():
    groups = {g for g, _ in option_files()} - {"hydra"}
    assert groups - NOT_COMPONENTS == {g for g, _ in COMPONENT_OPTIONS}
    assert len(COMPONENT_OPTIONS) >= 50


@pytest.mark.parametrize("group,option", COMPONENT_OPTIONS, ids=lambda v: str(v))
def test_option_yaml_repeats_no_signature_default(group, option):
    defaults = signature_node(group, option)
    repeated = {k: v for k, v in own_values(group, option).items()
                if k != "name" and k in defaults and v == defaults[k]}
    assert not repeated, f"conf/{group}/{option}.yaml repeats signature defaults: {repeated}"


@pytest.mark.parametrize("group,option", COMPONENT_OPTIONS, ids=lambda v: str(v))
def test_composed_option_is_signature_defaults_overlaid_with_yaml(group, option):
    expected = OmegaConf.to_container(OmegaConf.merge(signature_node(group, option), own_values(group, option)))
    node = composed(group, option)
    assert {k: node.get(k, "<absent>") for k in expected} == expected
    # anything else comes from another entry of the option's defaults list (data=mix: its mixer)
    entries = [next(iter(e)) if isinstance(e, dict) else e
               for e in yaml.safe_load((CONF_DIR / group / f"{option}.yaml").read_text())["defaults"]]
    others = {e.split("@")[1] for e in entries if "@" in e and not e.endswith("@_here_")}
    assert set(node) - set(expected) <= others


@pytest.mark.parametrize("variant", ["dora", "qlora"])
def test_lora_variants_share_loras_values(variant):
    """dora and qlora extend lora: the keys they share with it have LoRA's values."""
    lora, other = composed("peft", "lora"), composed("peft", variant)
    shared = (set(lora) & set(other)) - {"name"}
    assert {"r", "alpha", "dropout", "target_modules", "bias"} <= shared
    assert {k: other[k] for k in shared} == {k: lora[k] for k in shared}


def test_every_key_overrides_without_plus(compose):
    cfg = compose("train", ["peft=lora", "peft.alpha=32", "data=alpaca", "data.val_fraction=0.2",
                            "scheduler.min_ratio=0.1", "model.num_kv_heads=2", "data.group_by_length=true"])
    assert (cfg.peft.alpha, cfg.data.val_fraction, cfg.scheduler.min_ratio) == (32, 0.2, 0.1)
    assert (cfg.model.num_kv_heads, cfg.data.group_by_length) == (2, True)
    gen = compose("generate", ["llm=hf", "llm.threads=1", "evolution.deepening.method=Deeper."])
    assert gen.llm.threads == 1 and gen.evolution.deepening.method == "Deeper."


@pytest.mark.parametrize("primary", ["train", "preview", "eval"])
def test_loader_keys_are_loader_settings_defaults(compose, primary):
    raw = yaml.safe_load((CONF_DIR / f"{primary}.yaml").read_text())
    assert "data" not in raw, "the loader keys come from LoaderSettings, not from the primary config"
    assert f"/{LOADER_NODE}@data" in raw["defaults"]
    data = compose(primary, ["data=json_extract", "data.packing=true"]).data
    expected = {f.name: f.default for f in dataclasses.fields(LoaderSettings)}
    expected |= {k: v for k, v in own_values("data", "json_extract").items() if k in expected}
    assert {k: data[k] for k in expected} == {**expected, "packing": True}


def test_signature_defaults_keep_plain_values_only():
    @dataclasses.dataclass
    class Component:
        required: int
        words: tuple = ("a", "b")
        path: Path = Path("x")
        fn: object = print
        text: str = "${not_an_interpolation}"
        items: list = dataclasses.field(default_factory=lambda: [1, 2])

    out = signature_defaults(Component)
    assert out == {"words": ["a", "b"], "text": "\\${not_an_interpolation}", "items": [1, 2]}
    assert OmegaConf.create(out).text == "${not_an_interpolation}"


def test_output_only_is_a_config_alias_of_multi_turn(compose):
    assert compose("train", []).loss_mask.name == "multi_turn"  # the default, loss_mask=output_only
    assert ("loss_mask", "output_only", "multi_turn") in option_aliases()


def test_help_lists_no_signature_nodes():
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "--help"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0 and "loss_mask: full, last_turn, multi_turn, output_only" in out.stdout
    assert "_signature" not in out.stdout and LOADER_NODE not in out.stdout

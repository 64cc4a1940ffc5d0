"""THE assembler: a composed config -> the typed, checked parts that one command runs on.

Every command (train, preview, eval, generate) and `tuneforge validate` go through `assemble(command, cfg)`:
every bad key, missing key or wrong type of any component, stage or setting is reported at once with its
config path, before any model is built. Components are constructed here (cheap: models and tokenizers are
built by the command later); objects from outside tuneforge (Trainer, optimizer, callbacks, loggers) stay
`_target_` nodes that passed the allow-list, and `tuneforge/lightning/fit.py` instantiates them.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.config.issues import Issues, data_parts
from tuneforge.config.settings import CheckpointSettings, check_ranges, check_root, check_target_keys
from tuneforge.config.stages import TEMPLATE_OBJECTS, Stage, plan_stages
from tuneforge.config.targets import check_targets
from tuneforge.data.base import LoaderSettings
from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.lightning.fit import EvalSettings, FitSettings
from tuneforge.threads import threads_issue

log = logging.getLogger("tuneforge.config")

COMMANDS = ("train", "preview", "eval", "generate")


@dataclass
class TrainParts:
    model: Any
    peft: Any
    stages: list[Stage]
    fit: FitSettings
    run_dir: Path
    resume: str | None = None  # auto | force


@dataclass
class PreviewParts:
    model: Any
    stage: Stage
    split: str
    limit: int
    format: str


@dataclass
class EvalParts:
    model: Any
    peft: Any | None  # the run's PEFT method (`run=DIR`), loaded from its directory
    source: Path | None  # the run directory or the adapter directory to load
    data: Any
    loader: LoaderSettings
    template: Any  # a checked Bound, built with the tokenizer: template.build(tokenizer=...)
    metrics: dict[str, Any]
    generation: Any  # GenerationSettings
    split: str
    limit: int | None
    seed: int
    run_dir: Path


@dataclass
class GenerateParts:
    llm: Any
    pipeline: Any
    filters: list[Any] = field(default_factory=list)
    evolution: list[Any] = field(default_factory=list)
    seed: int = 42
    run_dir: Path = Path(".")


def remote_code_issues(node: Any, cli: list[str], path: str = "") -> list[ConfigIssue]:
    """`trust_remote_code: true` runs Python files shipped with a model (its config.json's `auto_map`): it is
    accepted only when this run's command line sets that very key, never from a config file, a recipe or a
    run directory's config.yaml."""
    if isinstance(node, list):
        return [i for k, v in enumerate(node) for i in remote_code_issues(v, cli, f"{path}[{k}]")]
    if not isinstance(node, dict):
        return []
    issues = []
    for key, value in node.items():
        where = f"{path}.{key}" if path else str(key)
        if key == "trust_remote_code" and value is True and not _set_on_command_line(where, cli):
            issues.append(ConfigIssue(where, "trust_remote_code=true runs code from the model's directory; it "
                                             f"is taken only from this run's command line ({where}=true)"))
        issues += remote_code_issues(value, cli, where)
    return issues


def _set_on_command_line(key: str, cli: list[str]) -> bool:
    return any(o.lstrip("+~").replace(" ", "") in (f"{key}=true", f"{key}=True") for o in cli)


def plain(cfg: Any, cli: list[str]) -> dict[str, Any]:
    """The resolved config as plain containers, after the `_target_` allow-list and remote-code checks."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    check_targets(cfg)
    try:
        c = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:  # missing mandatory values (???), broken interpolations
        raise ConfigError(ConfigIssue(getattr(err, "full_key", None) or "<config>",
                                      str(err).splitlines()[0])) from None
    issues = remote_code_issues(c, cli)
    if issues:
        raise ConfigError(issues)
    return c


def _seed(c: dict[str, Any], issues: Issues) -> int:
    seed = c.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        issues.add("seed", f"expected int, got {seed!r}")
        return 0
    return seed


def _targets(group: Any) -> list[dict[str, Any]]:
    """The `_target_` nodes of a multi-select group (callbacks, logger); null entries are switched off."""
    return [dict(node) for node in (group or {}).values() if node is not None]


def _eval_settings(node: dict[str, Any], issues: Issues) -> EvalSettings:
    settings = issues.settings(EvalSettings, {k: v for k, v in node.items() if k != "metrics"}, "eval") \
        or EvalSettings()
    names = list(node.get("metrics") or [])
    settings.metrics = {n: issues.build("metric", {"name": n}, f"eval.metrics.{n}") for n in names}
    if settings.best_by and settings.best_by not in names:
        issues.add("eval.best_by", f"{settings.best_by!r} is not one of eval.metrics {names}")
    settings.exact_match = issues.build("metric", {"name": "exact_match"}, "eval")
    return settings


def padding_free_check(model: Any, peft: Any, stages: list[Stage], issues: Issues) -> None:
    """`data.packing=padding_free` where the examples could not be isolated: one issue, before any work.
    A PEFT method (a plugin's too) says it adds virtual tokens per row with `prompt_learning = True`."""
    from tuneforge.render.collate import padding_free_problem

    if not any(getattr(s.settings, "packing", None) == "padding_free" for s in stages):
        return
    problem = padding_free_problem(getattr(model, "attn_implementation", None) or "sdpa",
                                   getattr(peft, "prompt_learning", False))
    if problem:
        issues.add("data.packing", problem)


def pad_for_prompt_learning(peft: Any, name: str, stages: list[Stage]) -> None:
    """`data.packing=true` (data=rules sets it) with a prompt-learning PEFT method, whose virtual tokens are
    numbered per row: the batches are padded instead (the same examples and loss, a little slower), said once."""
    packed = [s for s in stages if s.settings.packing is True] if getattr(peft, "prompt_learning", False) else []
    for stage in packed:
        stage.settings = dataclasses.replace(stage.settings, packing=False)
    if packed:
        log.warning("data.packing=true: padded batches instead for peft=%s (its virtual tokens are numbered per "
                    "row, so a row holds one example)", name)


def assemble_train(cfg: Any, cli: list[str]) -> TrainParts:
    c, issues = plain(cfg, cli), Issues()
    model, peft = issues.build("model", c.get("model"), "model"), issues.build("peft", c.get("peft"), "peft")
    data, loader = data_parts(c.get("data") or {}, "data", issues)
    top = Stage(None, "train", data, loader, issues.build("loss_masker", c.get("loss_mask"), "loss_mask"),
                issues.build("scheduler", c.get("scheduler"), "scheduler"),
                template=issues.bound("template", c.get("template"), "template", TEMPLATE_OBJECTS))
    stages = plan_stages(c.get("stages") or [], c, top, issues)
    check_root(c, "train", issues)
    check_ranges(c, issues)
    if problem := threads_issue(c.get("threads", "auto")):
        issues.add("threads", problem)
    if getattr(model, "gradient_checkpointing", False) and (c.get("peft") or {}).get("name") == "prefix":
        issues.add("model.gradient_checkpointing", "prefix tuning does not work with activation checkpointing "
                                                   "(a recomputed layer would lose the prefix): turn one off")
    padding_free_check(model, peft, [top, *stages], issues)
    pad_for_prompt_learning(peft, (c.get("peft") or {}).get("name"), stages)  # the stages run: [top] without any
    for place in ("trainer", "optimizer"):
        check_target_keys(c.get(place), place, issues)
    for place in ("callbacks", "logger"):
        for key, node in (c.get(place) or {}).items():
            check_target_keys(node, f"{place}.{key}", issues)
    checkpoint = issues.settings(CheckpointSettings, c.get("checkpoint") or {}, "checkpoint") or CheckpointSettings()
    fit = FitSettings(seed=_seed(c, issues), trainer=c["trainer"], optimizer=c["optimizer"],
                      callbacks=_targets(c.get("callbacks")), loggers=_targets(c.get("logger")),
                      checkpoint=checkpoint.enabled, checkpoint_every_n_steps=checkpoint.every_n_steps,
                      resume=bool(c.get("resume")), eval=_eval_settings(c["eval"], issues))
    if c.get("resume") not in (None, "auto", "force"):
        issues.add("resume", f"expected auto, force or null, got {c['resume']!r}")
    issues.raise_if_any()
    return TrainParts(model, peft, stages, fit, Path(c["run_dir"]), c.get("resume"))


def assemble_preview(cfg: Any, cli: list[str]) -> PreviewParts:
    c, issues = plain(cfg, cli), Issues()
    check_root(c, 'preview', issues)
    model = issues.build("model", c.get("model"), "model")
    data, loader = data_parts(c.get("data") or {}, "data", issues)
    stage = Stage(None, "preview", data, loader, issues.build("loss_masker", c.get("loss_mask"), "loss_mask"), None,
                  template=issues.bound("template", c.get("template"), "template", TEMPLATE_OBJECTS))
    preview = c["preview"]
    if preview["format"] not in ("rich", "jsonl"):
        issues.add("preview.format", f"expected rich or jsonl, got {preview['format']!r}")
    if preview["split"] not in ("train", "val"):
        issues.add("preview.split", f"expected train or val, got {preview['split']!r}")
    issues.raise_if_any()
    return PreviewParts(model, stage, preview["split"], max(0, int(preview["limit"])), preview["format"])


def assemble_eval(cfg: Any, cli: list[str]) -> EvalParts:
    from tuneforge.inference.generate import GenerationSettings

    c, issues = plain(cfg, cli), Issues()
    check_root(c, 'eval', issues)
    sources = eval_sources(c, cli)
    metrics = {k: issues.build("metric", node, f"metrics.{k}") for k, node in (c.get("metrics") or {}).items()}
    model = issues.build("model", sources.model, "model")
    peft = issues.build("peft", sources.peft, "peft") if sources.peft else None
    data, loader = data_parts(sources.data, "data", issues)
    template = issues.bound("template", sources.template, "template", TEMPLATE_OBJECTS)
    if not metrics and not issues.items:
        issues.add("metrics", "select at least one metric, e.g. metrics=[exact_match]")
    generation = issues.settings(GenerationSettings, c["generation"], "generation")
    issues.raise_if_any()
    source = Path(c["run"]) if c.get("run") else Path(c["adapter"]) if c.get("adapter") else None
    return EvalParts(model, peft, source, data, loader, template, metrics, generation, c["split"], c.get("limit"),
                     sources.seed, Path(c["run_dir"]))


def assemble_generate(cfg: Any, cli: list[str]) -> GenerateParts:
    c, issues = plain(cfg, cli), Issues()
    check_root(c, 'generate', issues)
    llm, pipeline = issues.build("llm", c.get("llm"), "llm"), issues.build("pipeline", c.get("pipeline"), "pipeline")
    many = {node: [issues.build(kind, sub, f"{node}.{key}") for key, sub in (c.get(node) or {}).items()
                   if sub is not None]
            for node, kind in (("filters", "filter"), ("evolution", "evolution_op"))}
    seed = _seed(c, issues)
    issues.raise_if_any()
    return GenerateParts(llm, pipeline, many["filters"], many["evolution"], seed, Path(c["run_dir"]))


@dataclass
class EvalSources:
    model: dict[str, Any]
    peft: dict[str, Any] | None
    data: dict[str, Any]
    template: dict[str, Any] | None
    seed: int


def eval_sources(c: dict[str, Any], cli: list[str]) -> EvalSources:
    """What `tuneforge eval` loads: the run's model, PEFT method, data, template and seed from `run`'s
    config.yaml when given (data or template overridden on the command line wins: `data=` brings the template
    its option selects), else the composed ones. A run directory may come from someone else: its nodes pass
    the same `_target_` and remote-code checks. A run from before templates were a group of their own keeps
    its `data.template` name."""
    from omegaconf import OmegaConf

    if not c.get("run"):
        return EvalSources(c["model"], None, c["data"], c.get("template"), c["seed"])
    config_file = Path(c["run"]) / "config.yaml"
    if not config_file.is_file():
        raise ConfigError(ConfigIssue("run", f"{c['run']!r} is not a tuneforge run directory (no {config_file.name})"))
    run_cfg = OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
    nodes = {k: run_cfg.get(k) for k in ("model", "peft", "data", "template")}
    check_targets(nodes)
    issues = [ConfigIssue(f"run {config_file}: {i.path}", i.message) for i in remote_code_issues(nodes, cli)]
    if issues:
        raise ConfigError(issues)
    data_overridden = any(o.lstrip("+~").startswith(("data=", "data.")) for o in cli)
    template_overridden = any(o.lstrip("+~").startswith(("template=", "template.", "data=")) for o in cli)
    run_data, run_template = dict(run_cfg["data"] or {}), run_cfg.get("template")
    if run_template is None and "template" in run_data:  # an older run: data.template named it
        run_template = {"name": run_data.pop("template")}
    return EvalSources(run_cfg["model"], run_cfg["peft"], c["data"] if data_overridden else run_data,
                       c.get("template") if template_overridden else run_template, run_cfg.get("seed", c["seed"]))


def _cli_overrides() -> list[str]:
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except Exception:  # composed outside a Hydra app (validate, tests)
        return []


ASSEMBLERS = {"train": assemble_train, "preview": assemble_preview, "eval": assemble_eval,
              "generate": assemble_generate}


def assemble(command: str, cfg: Any, overrides: list[str] | None = None) -> Any:
    """The parts of `command` (train, preview, eval, generate) from its composed config; `overrides` are the
    command line's (by default, those of the running Hydra app)."""
    return ASSEMBLERS[command](cfg, _cli_overrides() if overrides is None else overrides)

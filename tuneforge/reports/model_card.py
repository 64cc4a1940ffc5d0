"""A model card (README.md) written from a run: base model, data, template, method and its hyper-parameters,
the optimisation settings, the metrics and the command, with the Hub's metadata header. Written into every
directory a run saves (adapter/, model/, merged/) and into an export, in place of PEFT's empty card."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.artifacts import write_text
from tuneforge.peft._hf import is_peft_adapter


def _load(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    import yaml

    config_file, metrics_file = run_dir / "config.yaml", run_dir / "metrics.json"
    config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else {}
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    overrides_file = run_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else None
    return config or {}, metrics, overrides


def base_model(config: dict[str, Any]) -> str:
    """The base model in words: a name or path, or the config it was built from (model=tiny)."""
    model = config.get("model") or {}
    if model.get("name_or_path"):
        return str(model["name_or_path"])
    settings = ", ".join(f"{k}={v}" for k, v in model.items() if k != "name")
    return f"{model.get('name', '?')} built from config ({settings})"


def _settings(node: Any) -> str:
    if not isinstance(node, dict):
        return str(node)
    return ", ".join(f"`{k}={v}`" for k, v in node.items() if k != "name") or "defaults"


def model_card(run_dir: Path, *, library: str, note: str = "") -> str:
    """The card's Markdown; `library` is `transformers` (a full or merged model) or `peft` (an adapter)."""
    config, metrics, overrides = _load(Path(run_dir))
    model, peft = config.get("model") or {}, config.get("peft") or {}
    data, template = config.get("data") or {}, config.get("template") or {}
    header = ["---", f"library_name: {library}", "pipeline_tag: text-generation", "tags:", "- tuneforge",
              f"- {peft.get('name', 'fine-tuned')}"]
    if model.get("name_or_path") and not str(model["name_or_path"]).startswith(("/", ".", "~")):
        header.append(f"base_model: {model['name_or_path']}")
    header.append("---")
    command = "tuneforge train " + " ".join(overrides) if overrides else "tuneforge train (overrides not recorded)"
    trainer, optimizer, scheduler = (config.get(k) or {} for k in ("trainer", "optimizer", "scheduler"))
    lines = [*header, "", f"# {Path(run_dir).resolve().name}: {peft.get('name', '?')} fine-tune", "",
             ("Fine-tuned with tuneforge. " + note).strip(), "",
             "| | |", "|---|---|",
             f"| base model | {base_model(config)} |",
             f"| data | `{data.get('name', '?')}` {_settings({k: v for k, v in data.items() if k in ('path', 'num_train', 'split', 'subset')})} |",
             f"| prompt template | `{template.get('name', '?')}` (saved as the tokenizer's chat template) |",
             f"| method | `peft={peft.get('name', '?')}`: {_settings(peft)} |",
             f"| optimizer | {_settings(optimizer)} |",
             f"| scheduler | `{scheduler.get('name', '?')}` {_settings(scheduler)} |",
             (f"| training | max_steps={trainer.get('max_steps')}, max_epochs={trainer.get('max_epochs')}, "
              f"batch_size={data.get('batch_size')}, "
              f"accumulate_grad_batches={trainer.get('accumulate_grad_batches', 1)}, seed={config.get('seed')} |"),
             "", "## Metrics", ""]
    if metrics:
        lines += ["| metric | value |", "|---|---|",
                  *(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items())]
    else:
        lines.append("No metrics.json in the run.")
    lines += ["", "## The command", "", "```", command, "```", "",
              "## Use", "", "```python"]
    if library == "tuneforge":
        lines[-1:] = ["tuneforge's own adapter format (no transformers / PEFT loader): `tuneforge chat run=RUN_DIR`,",
                      "`tuneforge eval run=RUN_DIR`.", ""]
        return "\n".join(lines)
    if library == "peft":
        lines += ["from peft import AutoPeftModelForCausalLM", "from transformers import AutoTokenizer", "",
                  "model = AutoPeftModelForCausalLM.from_pretrained(THIS_DIR)"]
    else:
        lines += ["from transformers import AutoModelForCausalLM, AutoTokenizer", "",
                  "model = AutoModelForCausalLM.from_pretrained(THIS_DIR)"]
    lines += ["tokenizer = AutoTokenizer.from_pretrained(THIS_DIR)",
              "prompt = tokenizer.apply_chat_template([{\"role\": \"user\", \"content\": \"...\"}],",
              "                                       add_generation_prompt=True, return_tensors=\"pt\", return_dict=True)",
              "print(tokenizer.decode(model.generate(**prompt, max_new_tokens=64)[0]))", "```", ""]
    return "\n".join(lines)


def write_model_cards(run_dir: Path, artefacts: dict[str, str]) -> None:
    """README.md from the run in each saved directory (PEFT writes an empty card into adapter/)."""
    for name in ("adapter", "model", "merged"):
        path = artefacts.get(name)
        if path and Path(path).is_dir():
            write_text(Path(path) / "README.md", model_card(Path(run_dir), library=library_of(Path(path))))


def library_of(path: Path) -> str:
    """`peft` for a PEFT adapter directory, `tuneforge` for tuneforge's own adapter files, else `transformers`."""
    if is_peft_adapter(path):
        return "peft"
    return "tuneforge" if (Path(path) / "adapter_config.json").is_file() else "transformers"

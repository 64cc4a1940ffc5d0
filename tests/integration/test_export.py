"""`tuneforge export`: each mergeable method's export loads with plain `AutoModelForCausalLM` and gives the
adapter model's logits (atol 1e-4: merging reorders float32 sums; qlora is merged onto its dequantised base,
which is what its 4-bit layers compute with); methods that cannot merge are exported as adapters, said in
one line. A run's adapter names a saved base (model=tiny), so plain `AutoPeftModelForCausalLM` loads it
offline with tuneforge's own logits; saved directories carry the training template and a card from the run.

The adapters are not trained through Lightning (test_peft_methods does that): their weights are set to random
values, which makes every merge visible in the logits, and saved by the method's own `save`."""
from __future__ import annotations

import json

import pytest
import torch

from tests.unit.peft._helpers import small_cfg

MERGEABLE = ["lora", "dora", "qlora", "adalora", "ia3", "freeze"]
IDS = torch.randint(3, 250, (2, 12), generator=torch.Generator().manual_seed(0))


def _logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=IDS).logits.float()


def saved_run(compose, run_dir, method: str):
    """A run directory as `tuneforge train` leaves it (config.yaml, the method's saved result with the
    training template), the adapter's weights random; returns the in-memory adapter model."""
    import lightning.pytorch as pl

    from tuneforge.artifacts import write_resolved_config
    from tuneforge.config.assemble import assemble
    from tuneforge.model.load import build_model
    from tuneforge.template.base import use_template

    cfg = small_cfg(compose, run_dir, f"peft={method}", "template=alpaca")
    parts = assemble("train", cfg)
    write_resolved_config(cfg, run_dir / "config.yaml")
    pl.seed_everything(cfg.seed, verbose=False)
    model, tokenizer = build_model(parts.model, parts.peft)
    model = parts.peft.apply(model, tokenizer)
    noise = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=noise) * 0.1)
    use_template(tokenizer, parts.stages[0].build_template(tokenizer))
    parts.peft.save(model, tokenizer, run_dir)
    return model.eval()


@pytest.mark.parametrize("method", MERGEABLE)
def test_export_loads_with_plain_transformers_with_the_adapter_logits(compose, tmp_path, method):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.commands.export import export
    from tuneforge.template.alpaca import ALPACA

    adapted = saved_run(compose, tmp_path, method)
    expected = _logits(adapted)
    exported = export(tmp_path)
    assert exported.kind in ("merged", "model") and str(tmp_path / "export") in exported.message
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "export").eval()
    assert type(plain).__name__ == "LlamaForCausalLM"
    assert not any("lora" in n or "ia3" in n for n, _ in plain.named_parameters())
    got = _logits(plain)
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4), (got - expected).abs().max()
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "export")
    assert tokenizer.chat_template == ALPACA.to_jinja()
    card = (tmp_path / "export" / "README.md").read_text()
    assert f"peft={method}" in card and "`alpaca`" in card and "library_name: transformers" in card


def test_merge_changes_the_base(compose, tmp_path):
    """Guards the test above: the random adapter moves the logits far beyond its tolerance."""
    from transformers import AutoModelForCausalLM

    adapted = saved_run(compose, tmp_path, "lora")
    base = AutoModelForCausalLM.from_pretrained(tmp_path / "base").eval()
    assert (_logits(adapted) - _logits(base)).abs().max() > 1e-2


def test_adapter_is_portable_with_plain_peft_offline(compose, tmp_path, monkeypatch):
    """base_model_name_or_path names run/base (config + weights), so AutoPeftModelForCausalLM loads it."""
    import lightning.pytorch as pl
    from peft import AutoPeftModelForCausalLM

    from tuneforge.config.assemble import assemble

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved_run(compose, tmp_path, "lora")
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((tmp_path / "base").resolve())
    portable = AutoPeftModelForCausalLM.from_pretrained(str(tmp_path / "adapter")).eval()
    parts = assemble("train", small_cfg(compose, tmp_path, "peft=lora", "template=alpaca"))
    pl.seed_everything(42, verbose=False)
    own = parts.peft.load(parts.model.build()[0], tmp_path)  # tuneforge's own load: the base rebuilt from seed
    assert torch.allclose(_logits(portable), _logits(own), atol=1e-6)


@pytest.mark.parametrize(("method", "kind"), [("prompt", "peft_adapter"), ("adapter", "tuneforge_adapter")])
def test_unmergeable_methods_are_exported_as_adapters(compose, tmp_path, method, kind):
    from tuneforge.commands.export import export

    adapted = saved_run(compose, tmp_path, method)
    exported = export(tmp_path, tmp_path / "out")
    assert exported.kind == kind and "cannot be merged" in exported.message and "\n" not in exported.message
    if kind == "peft_adapter":
        from peft import AutoPeftModelForCausalLM

        reloaded = AutoPeftModelForCausalLM.from_pretrained(str(tmp_path / "out")).eval()
        assert torch.allclose(_logits(reloaded), _logits(adapted), atol=1e-5)
    assert (tmp_path / "out" / "chat_template.jinja").is_file() and (tmp_path / "out" / "README.md").is_file()


def test_export_refuses_what_is_not_a_run(tmp_path):
    from tuneforge.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["export", f"run={tmp_path}"])
    assert exit_info.value.code == 2


def test_gguf_loads_back_with_the_same_logits_tokens_and_template(compose, tmp_path):
    """gguf=true: transformers' own GGUF reader (what llama.cpp-format users rely on) gives the export's logits
    and tokens; the file carries the training template and the stop token."""
    import gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.commands.export import export

    saved_run(compose, tmp_path, "lora")
    export(tmp_path, gguf=True)
    out = tmp_path / "export"
    exported = AutoModelForCausalLM.from_pretrained(out).eval()
    from_gguf = AutoModelForCausalLM.from_pretrained(out, gguf_file="model.gguf", dtype=torch.float32).eval()
    assert torch.allclose(_logits(from_gguf), _logits(exported), atol=1e-5)
    text = "### Instruction:\nreverse kqzt héllo<|im_end|>"
    assert (AutoTokenizer.from_pretrained(out, gguf_file="model.gguf")(text)["input_ids"]
            == AutoTokenizer.from_pretrained(out)(text)["input_ids"])
    fields = gguf.GGUFReader(str(out / "model.gguf")).fields
    template = fields["tokenizer.chat_template"]
    assert bytes(template.parts[template.data[0]]).decode() == (out / "chat_template.jinja").read_text()
    eos = fields["tokenizer.ggml.eos_token_id"]
    assert int(eos.parts[eos.data[0]][0]) == json.loads((out / "generation_config.json").read_text())["eos_token_id"]

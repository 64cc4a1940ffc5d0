"""Any Hugging Face causal LM from a local directory or a hub id (`model.name_or_path`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.model.base import check_dtype, finish, load_kwargs
from tuneforge.registry import register


@register("model", "hf")
class HFModel:
    """AutoModelForCausalLM + AutoTokenizer from `name_or_path` (tokenizer from `tokenizer` if set).
    `dtype: auto` keeps the checkpoint's dtype; `attn_implementation` is passed to transformers
    (sdpa, eager, flash_attention_2 where installed); `gradient_checkpointing` recomputes each
    layer's activations during backward instead of keeping them."""

    def __init__(self, name_or_path: str, tokenizer: str | None = None, dtype: str = "auto",
                 attn_implementation: str | None = "sdpa", trust_remote_code: bool = False,
                 gradient_checkpointing: bool = False):
        if name_or_path in ("", "???"):  # conf/model/hf.yaml's mandatory value, not given
            raise ConfigError(ConfigIssue("model.name_or_path", "not set: model=hf needs the model, a local "
                                                                "directory or a hub id: model.name_or_path=DIR"))
        looks_local = name_or_path.startswith(("/", ".", "~")) or Path(name_or_path).exists()
        if looks_local and not Path(name_or_path).expanduser().is_dir():
            raise ConfigError(ConfigIssue("model.name_or_path",
                                          f"no model directory at {name_or_path!r}"))
        self.name_or_path = str(Path(name_or_path).expanduser()) if looks_local else name_or_path
        self.tokenizer = tokenizer or self.name_or_path
        self.dtype, self.attn_implementation = check_dtype(dtype), attn_implementation
        self.trust_remote_code, self.gradient_checkpointing = trust_remote_code, gradient_checkpointing

    def check_hub(self) -> None:
        """A hub id that cannot be loaded now (offline and not cached) stops at once with the fix, instead of
        the hub client's retries and a long traceback."""
        from tuneforge.hub import hub_model_problem
        from tuneforge.errors import TuneforgeError

        for name in dict.fromkeys((self.name_or_path, self.tokenizer)):
            problem = None if Path(name).is_dir() else hub_model_problem(
                name, "model.name_or_path" if name == self.name_or_path else "model.tokenizer")
            if problem:
                raise TuneforgeError(problem)

    def model_config(self) -> Any:
        """config.json alone (a directory without weights, or a hub id in the local cache)."""
        from transformers import AutoConfig

        self.check_hub()
        return AutoConfig.from_pretrained(self.name_or_path, trust_remote_code=self.trust_remote_code)

    def build(self, quantization: Any = None):  # noqa: ANN201 (transformers types)
        from transformers import AutoModelForCausalLM

        self.check_hub()
        model = AutoModelForCausalLM.from_pretrained(
            self.name_or_path, **load_kwargs(self.dtype, self.attn_implementation, quantization,
                                             trust_remote_code=self.trust_remote_code))
        return finish(model, self.gradient_checkpointing), self._load_tokenizer()

    def build_tokenizer(self):  # noqa: ANN201 (transformers type)
        self.check_hub()
        return self._load_tokenizer()

    def _load_tokenizer(self):  # noqa: ANN201 (transformers type)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.tokenizer, trust_remote_code=self.trust_remote_code)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

"""P-tuning with free-form virtual-token positions (ours): T = {h_0..h_i, e(x), h_i+1..h_j, e(y), ...}.

The prompt template (or the data) writes a placeholder token wherever virtual tokens go, e.g.
`<|v|><|v|><|v|> Input: {x} <|v|><|v|> Output:`; the k-th placeholder of a sequence becomes the
virtual token h_k = f_theta(P_k) (MLP or LSTM encoder). Only P and theta train.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

CONFIG_FILE = "ptuning_free_config.json"
WEIGHTS_FILE = "prompt_encoder.safetensors"


@register("peft", "ptuning_free")
class FreeFormPTuning:
    """P-tuning whose virtual tokens sit wherever `placeholder` appears in the rendered prompt (the
    k-th occurrence in a sequence is virtual token k); the placeholder is added to the tokenizer as a
    special token. Needs the tokenizer at apply time: `apply(model, tokenizer)`."""

    prompt_learning = True  # virtual tokens numbered per row: its rows cannot hold several packed examples

    def __init__(self, num_virtual_tokens: int = 8, placeholder: str = "<|v|>",
                 encoder: Literal["MLP", "LSTM"] = "MLP", encoder_hidden_size: int = 128):
        if num_virtual_tokens < 1:
            raise ConfigError(ConfigIssue("peft.num_virtual_tokens", "must be >= 1"))
        self.num_virtual_tokens, self.placeholder = num_virtual_tokens, placeholder
        self.encoder, self.encoder_hidden_size = encoder, encoder_hidden_size

    def config(self) -> dict[str, Any]:
        return {"num_virtual_tokens": self.num_virtual_tokens, "placeholder": self.placeholder,
                "encoder": self.encoder, "encoder_hidden_size": self.encoder_hidden_size}

    def placeholder_id(self, tokenizer: Any) -> int:
        """Add the placeholder as a special token if needed; its id."""
        if self.placeholder not in tokenizer.get_vocab():
            tokenizer.add_special_tokens({"additional_special_tokens": [self.placeholder]})
        ids = tokenizer(self.placeholder, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ConfigError(ConfigIssue("peft.placeholder", f"{self.placeholder!r} is not one token: {ids}"))
        return ids[0]

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        if tokenizer is None:
            raise ConfigError(ConfigIssue("peft", "ptuning_free needs the tokenizer: apply(model, tokenizer)"))
        return self._wrap(model, self.placeholder_id(tokenizer), len(tokenizer))

    def _wrap(self, model: Any, placeholder_id: int, vocab: int) -> Any:
        from tuneforge.peft._virtual_tokens import PromptEncoder, VirtualTokenEmbedding

        if model.get_input_embeddings().num_embeddings < vocab:
            model.resize_token_embeddings(vocab, mean_resizing=False)
        for p in model.parameters():
            p.requires_grad_(False)
        base = model.get_input_embeddings()
        encoder = PromptEncoder(self.num_virtual_tokens, base.embedding_dim, self.encoder,
                                self.encoder_hidden_size).to(base.weight.device)
        model.set_input_embeddings(VirtualTokenEmbedding(base, placeholder_id, encoder))
        model.tuneforge_placeholder_id = placeholder_id
        return model

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from safetensors.torch import save_file

        path = Path(out_dir) / "adapter"
        path.mkdir(parents=True, exist_ok=True)
        encoder = model.get_input_embeddings().encoder
        save_file({k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()},
                  str(path / WEIGHTS_FILE))
        (path / CONFIG_FILE).write_text(json.dumps(
            self.config() | {"placeholder_id": model.tuneforge_placeholder_id,
                             "vocab_size": model.get_input_embeddings().num_embeddings}, indent=2))
        from tuneforge.peft._hf import save_tokenizer

        save_tokenizer(tokenizer, path, model)
        return {"adapter": str(path)}

    def load(self, model: Any, out_dir: Path) -> Any:
        from safetensors.torch import load_file

        path = Path(out_dir) / "adapter"
        saved = json.loads((path / CONFIG_FILE).read_text())
        method = FreeFormPTuning(**{k: saved[k] for k in self.config()})
        model = method._wrap(model, saved["placeholder_id"], saved["vocab_size"])
        model.get_input_embeddings().encoder.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
        return model.eval()

    def callbacks(self) -> list:
        return []

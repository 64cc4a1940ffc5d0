"""A local transformers causal LM as the backend: batched generation with left padding.

`model` is a local directory, a hub id available offline, or "tiny" (tuneforge's Llama built from
config with the byte-level tokenizer, sized by `tiny`; random weights, for tests). Prompts are wrapped
as one user message when the tokenizer has a chat template and `chat_template` is true.
"""
from __future__ import annotations

from typing import Any, Literal, Sequence

from tuneforge.registry import register
from tuneforge.llm.base import Completion, LLMStats


@register("llm", "hf")
class HFBackend:
    """Local transformers model (a directory, or model=tiny built from config): batched generate()."""

    def __init__(self, model: str = "tiny", tiny: dict = {}, batch_size: int = 8,  # noqa: B006
                 max_new_tokens: int = 256, temperature: float = 0.7, top_p: float = 1.0,
                 chat_template: bool = True, dtype: Literal["float32", "bfloat16", "float16"] = "float32",
                 device: str = "cpu", seed: int = 0, trust_remote_code: bool = False,
                 threads: int | None = None):
        self.model_name = model
        self.tiny, self.batch_size, self.max_new_tokens = dict(tiny), max(1, batch_size), max_new_tokens
        self.temperature, self.top_p, self.chat_template = temperature, top_p, chat_template
        self.dtype, self.device, self.seed, self.trust_remote_code = dtype, device, seed, trust_remote_code
        self.threads = threads  # torch CPU threads (1 avoids OpenMP spin contention on a shared machine)
        self.stats = LLMStats()
        self._model: Any = None
        self._tokenizer: Any = None
        self._calls = 0

    def load(self) -> tuple[Any, Any]:
        if self._model is None:
            import torch

            torch.manual_seed(self.seed)
            if self.threads:
                torch.set_num_threads(self.threads)
            if self.model_name == "tiny":
                from tuneforge.model.tiny import TinyModel

                model, tokenizer = TinyModel(**self.tiny).build()
            else:
                from tuneforge.model.hf import HFModel

                model, tokenizer = HFModel(self.model_name, dtype=self.dtype,
                                           trust_remote_code=self.trust_remote_code).build()
            self._model, self._tokenizer = model.to(self.device).eval(), tokenizer
        return self._model, self._tokenizer

    @property
    def mode(self) -> str:
        """"chat" when prompts go through the tokenizer's chat template, else "completion" (loads the model)."""
        if not self.chat_template:
            return "completion"
        return "chat" if getattr(self.load()[1], "chat_template", None) else "completion"

    def _render(self, prompt: str) -> str:
        tok = self._tokenizer
        if self.chat_template and getattr(tok, "chat_template", None):
            return tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                           add_generation_prompt=True)
        return prompt

    def generate(self, prompts: Sequence[str], *, max_tokens: int | None = None,
                 temperature: float | None = None, top_p: float | None = None,
                 stop: Sequence[str] | None = None) -> list[Completion]:
        import torch

        from tuneforge.inference.generate import cut_at_stop

        model, tok = self.load()
        temperature = self.temperature if temperature is None else temperature
        top_p = self.top_p if top_p is None else top_p
        max_new = min(max_tokens or self.max_new_tokens, self.max_new_tokens)
        sampling = ({"do_sample": True, "temperature": temperature, "top_p": top_p or 1.0}
                    if temperature > 0 else {"do_sample": False})
        self._calls += 1
        torch.manual_seed(self.seed * 1000003 + self._calls)
        out: list[Completion] = []
        side, tok.padding_side = tok.padding_side, "left"
        try:
            for i in range(0, len(prompts), self.batch_size):
                texts = [self._render(p) for p in prompts[i:i + self.batch_size]]
                self.stats.requests += len(texts)
                try:
                    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
                    with torch.no_grad():
                        ids = model.generate(**batch, max_new_tokens=max_new, pad_token_id=tok.pad_token_id,
                                             eos_token_id=tok.eos_token_id, **sampling)
                except (RuntimeError, ValueError) as err:  # e.g. out of memory: these prompts fail
                    self.stats.failures += len(texts)
                    self.stats.errors[type(err).__name__] += len(texts)
                    out += [Completion(None, error=f"{type(err).__name__}: {err}"[:200]) for _ in texts]
                    continue
                new = ids[:, batch["input_ids"].shape[1]:]
                for row in new:
                    ended = bool((row == tok.eos_token_id).any())
                    text = tok.decode(row, skip_special_tokens=True)
                    cut = cut_at_stop(text, list(stop or []))
                    finish = "stop" if ended or len(cut) < len(text) else "length"
                    out.append(Completion(cut, finish_reason=finish))
        finally:
            tok.padding_side = side
        return out

    def close(self) -> None:
        self._model = self._tokenizer = None

"""llm=vllm: batched offline generation with vllm.LLM (the whole batch in one call)."""
from __future__ import annotations

from typing import Any, Sequence

from tuneforge.llm.base import Completion, LLMStats
from tuneforge.registry import register


@register("llm", "vllm")
class VLLMBackend:
    """vLLM offline engine on a GPU: continuous batching over every prompt of a pipeline stage."""

    def __init__(self, model: str, tensor_parallel_size: int = 1, dtype: str = "auto",
                 max_model_len: int | None = None, gpu_memory_utilization: float = 0.9,
                 max_tokens: int = 512, temperature: float = 0.7, top_p: float = 1.0,
                 chat_template: bool = True, seed: int = 0, trust_remote_code: bool = False):
        self.model_name = model
        self.engine_args = dict(model=model, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                                max_model_len=max_model_len, gpu_memory_utilization=gpu_memory_utilization,
                                seed=seed, trust_remote_code=trust_remote_code)
        self.defaults = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p}
        self.chat_template, self.seed = chat_template, seed
        self.stats = LLMStats()
        self._llm: Any = None

    def _engine(self) -> Any:
        if self._llm is None:
            from vllm import LLM

            self._llm = LLM(**{k: v for k, v in self.engine_args.items() if v is not None})
        return self._llm

    def generate(self, prompts: Sequence[str], *, max_tokens: int | None = None,
                 temperature: float | None = None, top_p: float | None = None,
                 stop: Sequence[str] | None = None) -> list[Completion]:
        from vllm import SamplingParams

        if not prompts:
            return []
        llm = self._engine()
        params = SamplingParams(max_tokens=max_tokens or self.defaults["max_tokens"],
                                temperature=self.defaults["temperature"] if temperature is None else temperature,
                                top_p=(self.defaults["top_p"] if top_p is None else top_p) or 1.0,
                                stop=list(stop or []) or None, seed=self.seed)
        self.stats.requests += len(prompts)
        if self.chat_template:
            outputs = llm.chat([[{"role": "user", "content": p}] for p in prompts], params, use_tqdm=False)
        else:
            outputs = llm.generate(list(prompts), params, use_tqdm=False)
        return [Completion(o.outputs[0].text, finish_reason=o.outputs[0].finish_reason) for o in outputs]

    def close(self) -> None:
        self._llm = None

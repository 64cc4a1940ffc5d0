"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, `transformers serve`) through the
`openai` client, with `concurrency` requests in flight and our own bounded retries.

The client's own retries are off (max_retries=0): it does not retry a 200 reply whose body is broken
JSON or of the wrong shape, so every reply is validated here and every retry is counted. Retried:
429 (waiting Retry-After, capped at `max_retry_after`), 408/409/5xx, timeouts, dropped connections,
invalid replies; with exponential backoff and jitter, at most `max_retries` times per prompt. 401,
403 and 404 stop the run (LLMFatalError). The API key is read from the environment variable named by
`api_key_env` and is never stored in the config, logs or outputs.

`structured=true` sends the JSON schema a pipeline stage gives (`generate(..., schema=...)`) so that the
server answers with JSON of that shape: `response_format` {"type": "json_schema"} (OpenAI, vLLM,
llama.cpp, Ollama) or vLLM's `guided_json` (`structured_via`). A server that rejects the field (400 or
422) gets the request again without it, and no schema for the rest of the run (one warning); one that
ignores it (`transformers serve`) answers in text, which the pipelines' parsers read as well.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import re
import time
from typing import Any, Literal, Sequence

from tuneforge.registry import register
from tuneforge.llm.base import Completion, LLMFatalError, LLMStats

log = logging.getLogger("tuneforge.llm.openai")


class InvalidReply(Exception):
    """A 200 reply that is not a usable completion."""


@register("llm", "openai")
class OpenAIBackend:
    """OpenAI-compatible HTTP server via AsyncOpenAI: concurrency, retries with backoff and jitter."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000/v1", model: str = "default",
                 api_key_env: str = "OPENAI_API_KEY", mode: Literal["chat", "completion"] = "chat",
                 concurrency: int = 8, max_retries: int = 5, backoff_base: float = 0.5,
                 backoff_max: float = 8.0, max_retry_after: float = 60.0, timeout: float = 60.0,
                 max_tokens: int = 512, temperature: float = 0.7, top_p: float = 1.0,
                 seed: int | None = None, structured: bool = False,
                 structured_via: Literal["response_format", "guided_json"] = "response_format"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            from tuneforge.errors import ConfigError, ConfigIssue

            raise ConfigError(ConfigIssue("llm.api_key_env", "expected the NAME of an environment variable that "
                                          "holds the key (e.g. OPENAI_API_KEY); the value given is not a variable "
                                          "name (a key pasted here? it is not shown or written anywhere)"))
        self.model_name, self.base_url, self.mode = model, base_url, mode
        self.structured, self.structured_via = structured, structured_via
        self.api_key_env = api_key_env
        self.concurrency, self.max_retries = max(1, concurrency), max(0, max_retries)
        self.backoff_base, self.backoff_max, self.max_retry_after = backoff_base, backoff_max, max_retry_after
        self.timeout = timeout
        self.defaults = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p}
        self.seed = seed
        self.stats = LLMStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._rng = random.Random(seed)

    # ------------------------------------------------------------------ client
    def _ensure(self) -> None:
        if self._client is not None:
            return
        from openai import AsyncOpenAI

        for name in ("httpx", "httpx2"):  # one INFO line per request otherwise
            logging.getLogger(name).setLevel(logging.WARNING)
        key = os.environ.get(self.api_key_env)
        if not key:
            log.warning("environment variable %s is not set; sending a placeholder key", self.api_key_env)
        self._loop = asyncio.new_event_loop()
        self._client = AsyncOpenAI(base_url=self.base_url, api_key=key or "EMPTY", max_retries=0,
                                   timeout=self.timeout)

    def close(self) -> None:
        if self._client is not None and self._loop is not None:
            self._loop.run_until_complete(self._client.close())
            self._loop.close()
        self._client = self._loop = None

    # ------------------------------------------------------------------ public
    def generate(self, prompts: Sequence[str], *, max_tokens: int | None = None,
                 temperature: float | None = None, top_p: float | None = None,
                 stop: Sequence[str] | None = None, schema: dict | None = None) -> list[Completion]:
        if not prompts:
            return []
        self._ensure()
        params = {"max_tokens": max_tokens or self.defaults["max_tokens"],
                  "temperature": self.defaults["temperature"] if temperature is None else temperature,
                  "top_p": self.defaults["top_p"] if top_p is None else top_p}
        if stop:
            params["stop"] = list(stop)[:4]  # the OpenAI API takes at most 4 stop sequences
        if self.seed is not None:
            params["seed"] = self.seed
        if schema and self.structured:
            params["extra_body"] = self._structured(schema)
        assert self._loop is not None
        return self._loop.run_until_complete(self._batch(list(prompts), params))

    # ------------------------------------------------------------------ internals
    async def _batch(self, prompts: list[str], params: dict) -> list[Completion]:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(prompt: str) -> Completion:
            async with sem:
                return await self._with_retries(prompt, params)

        tasks = [asyncio.ensure_future(one(p)) for p in prompts]
        try:
            return list(await asyncio.gather(*tasks))
        except LLMFatalError:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _structured(self, schema: dict) -> dict:
        if self.structured_via == "guided_json":
            return {"guided_json": schema}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "reply", "schema": schema, "strict": True}}}

    async def _with_retries(self, prompt: str, params: dict) -> Completion:
        last = "no attempt"
        attempt = 0
        while attempt <= self.max_retries:
            if "extra_body" in params and not self.structured:  # another request found it unsupported
                params = {k: v for k, v in params.items() if k != "extra_body"}
            if attempt:
                self.stats.retries += 1
            self.stats.requests += 1
            try:
                text, finish = await self._request(prompt, params)
                return Completion(text, finish_reason=finish)
            except LLMFatalError:
                raise
            except Exception as err:  # classified below; unknown errors are retried too, then counted
                if "extra_body" in params and _rejects_schema(err):
                    params = self._without_schema(params, err)
                    continue  # the same attempt again, without the schema
                kind, wait, retry = self._classify(err)
                last = f"{kind}: {self._clean(_short(err))}"
            self.stats.errors[kind] += 1
            if not retry or attempt == self.max_retries:
                break
            log.warning("%s: %s; retry %d of %d", self.base_url, last, attempt + 1, self.max_retries)
            await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
            attempt += 1
        self.stats.failures += 1
        return Completion(None, error=last)

    def _clean(self, text: str) -> str:
        """Error text as stored and shown: the key (a server may echo it) and key-shaped values redacted."""
        from tuneforge.secrets import MARK, redact_value

        key = os.environ.get(self.api_key_env)
        return redact_value(text.replace(key, MARK) if key and len(key) >= 8 else text)

    def _without_schema(self, params: dict, err: Exception) -> dict:
        """The server rejects the structured-output field: drop it, for this request and the run."""
        if self.structured:
            log.warning("the server at %s rejects %s (%s); sending no schema from now on (the replies are "
                        "parsed as text)", self.base_url, self.structured_via, _short(err))
            self.structured = False
        self.stats.errors["structured_unsupported"] += 1
        return {k: v for k, v in params.items() if k != "extra_body"}

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half uniform random."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** attempt)
        return delay / 2 + self._rng.uniform(0, delay / 2)

    def _classify(self, err: Exception) -> tuple[str, float | None, bool]:
        """(error kind, wait before retrying or None for backoff, whether to retry)."""
        import openai

        if isinstance(err, (InvalidReply, json.JSONDecodeError)):
            return "invalid_reply", None, True
        if isinstance(err, openai.APITimeoutError):
            return "timeout", None, True
        if isinstance(err, openai.APIConnectionError):
            return "connection", None, True
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            if status in (401, 403, 404):
                raise LLMFatalError(f"the LLM server at {self.base_url} answered {status} "
                                    f"({_short(err)}); check llm.model, llm.base_url and the key in "
                                    f"${self.api_key_env}") from None
            if status == 429:
                return "429", self._retry_after(err), True
            if status >= 500 or status in (408, 409):
                return f"{status}", None, True
            return f"{status}", None, False  # 400, 422, ...: the request itself is wrong
        return type(err).__name__, None, True

    def _retry_after(self, err: Any) -> float | None:
        headers = getattr(getattr(err, "response", None), "headers", None) or {}
        wait = None
        try:
            if headers.get("retry-after-ms"):
                wait = float(headers["retry-after-ms"]) / 1000
            elif headers.get("retry-after"):
                value = headers["retry-after"]
                try:
                    wait = float(value)
                except ValueError:
                    wait = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            wait = None
        if wait is None:
            return None
        return min(max(0.0, wait), self.max_retry_after) + self._rng.uniform(0, 0.05)

    async def _request(self, prompt: str, params: dict) -> tuple[str, str | None]:
        if self.mode == "chat":
            resp = await self._client.chat.completions.create(
                model=self.model_name, messages=[{"role": "user", "content": prompt}], **params)
        else:
            resp = await self._client.completions.create(model=self.model_name, prompt=prompt, **params)
        if isinstance(resp, (str, bytes)):
            raise InvalidReply("the reply is not JSON (wrong content type)")
        choices = getattr(resp, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise InvalidReply("the reply has no `choices`")
        choice = choices[0]
        if self.mode == "chat":
            message = getattr(choice, "message", None)
            text = getattr(message, "content", None)
        else:
            text = getattr(choice, "text", None)
        if not isinstance(text, str):
            raise InvalidReply("the reply's first choice has no text")
        finish = getattr(choice, "finish_reason", None)
        return text, finish if isinstance(finish, str) else None


def _rejects_schema(err: Exception) -> bool:
    """A 400/422 whose message or body names the structured-output field (not some other fault of the
    request); FastAPI servers put it in the body only ({"detail": "Unexpected fields ..."})."""
    text = f"{err} {getattr(err, 'body', '')}"
    return getattr(err, "status_code", None) in (400, 422) and bool(
        re.search(r"response_format|guided|json_schema|schema|unexpected field|unsupported|extra", text, re.I))


def _short(err: Exception, limit: int = 160) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit] + "..."

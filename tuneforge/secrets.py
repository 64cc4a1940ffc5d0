"""Recognising secrets, so that no file a run writes holds one.

A secret is a value under a secret-named key (api_key, token, password, secret, credentials, ...: never a
count such as `max_tokens`), a value shaped like a known key (OpenAI `sk-...`, Hugging Face `hf_...`,
GitHub, Slack, AWS, Google), or the password of a URL (`https://user:PASSWORD@host`).

Hydra writes the command line into `.hydra/` and `multirun.yaml` before tuneforge sees the config, and
loggers record `sys.argv`; so the CLI moves each secret given as an override into an environment variable
of the process and hands Hydra `key=${oc.env:VAR}` instead (`hide_secret_overrides`). Files written from
the config are redacted (`tuneforge.artifacts.redacted`).
"""
from __future__ import annotations

import os
import re
from typing import Any

SECRET_KEY = re.compile(r"(^|[._-])(api_?keys?|token|auth_?token|access_?token|access_?key|secrets?|"
                        r"secret_?key|passwords?|passwd|credentials?)$", re.I)
SECRET_VALUE = re.compile(
    r"(sk-(proj-|ant-)?[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|"
    r"xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,})")
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<password>[^/\s@]+)(?=@)", re.I)
MARK = "<redacted>"
ENV_PREFIX = "TUNEFORGE_SECRET_"


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(str(key)))


def looks_like_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(SECRET_VALUE.search(value) or URL_PASSWORD.search(value))


def redact_value(value: str) -> str:
    """`value` with key-shaped parts and URL passwords replaced by the marker."""
    return URL_PASSWORD.sub(lambda m: m.group("head") + MARK, SECRET_VALUE.sub(MARK, value))


def hide_secret_overrides(argv: list[str], environ: dict[str, str] | None = None) -> list[str]:
    """`argv` with every override that carries a secret (a secret-named key, or a secret-shaped value)
    rewritten as `key=${oc.env:TUNEFORGE_SECRET_<n>}`, the value put in `environ` (os.environ by default):
    the config resolves to the same value, and nothing Hydra or a logger writes holds it."""
    environ = os.environ if environ is None else environ
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        bare = key.lstrip("+~")
        if not sep or arg.startswith("-") or "${" in value or not value or value.lower() == "null" \
                or not (is_secret_key(bare.rsplit(".", 1)[-1]) or looks_like_secret(value)):
            out.append(arg)
            continue
        name = f"{ENV_PREFIX}{sum(k.startswith(ENV_PREFIX) for k in environ)}"
        environ[name] = value.strip("'\"")
        out.append(f"{key}=${{oc.env:{name}}}")
    return out

"""Installing a plugin package for real: pip into a separate --target directory, so the venv is not
changed; a subprocess with PYTHONPATH set to it sees the plugin, one without does not."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def install_plugin(source: Path, tmp_path_factory) -> Path:
    """pip-install the plugin at `source` (a copy: setuptools builds in the source tree) into a fresh
    directory; returns that directory for PYTHONPATH."""
    site = tmp_path_factory.mktemp("plugin_site")
    src = tmp_path_factory.mktemp("plugin_src") / source.name
    shutil.copytree(source, src)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True, cwd=src,
                   env={**os.environ, "PIP_NO_CACHE_DIR": "1"})
    assert list(site.glob("*.dist-info"))
    return site


def plugin_env(site: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env

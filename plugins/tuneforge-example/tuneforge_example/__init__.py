"""tuneforge-example: the plugin a third party copies. Importing this module (tuneforge does it through
the `tuneforge.plugins` entry point) registers four components, attributed to this distribution:

    data=qa_text            a data builder for "Q: ... / A: ..." text files
    filters=[...,no_urls]   a filter dropping generated records that contain URLs
    evolution=[...,audience]  an Evol-Instruct in-depth operator: rewrite for a given audience
    peft=bitfit             BitFit: only bias terms train (zero biases added where a layer has none)

CONFIG_DIR holds their config groups (conf/<group>/<name>.yaml), joined to tuneforge's own.
Nothing here imports torch at import time: `tuneforge ls` must stay fast.
"""
from __future__ import annotations

from . import audience, bitfit, no_urls, qa_text  # noqa: F401 (importing registers the components)

CONFIG_DIR = "pkg://tuneforge_example.conf"

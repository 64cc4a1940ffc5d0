"""tuneforge: declarative instruction tuning with Hydra, Lightning and PEFT.

Heavy libraries (torch, transformers, peft, lightning) are imported lazily inside the functions that
need them, so `tuneforge ls` and `--help` answer fast.
"""
from tuneforge.registry import register

__version__ = "0.1.0"
__all__ = ["register", "__version__"]

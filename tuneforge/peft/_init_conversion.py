"""PiSSA / OLoRA initialisation moves part of each base weight into the adapter (W0 = W_res + s B0 A0, the
base keeps W_res), so the adapter alone does not apply to the original base. The initial A0, B0 are kept
at `apply`, and the trained adapter is saved converted (peft's path_initial_model_for_weight_conversion):
ΔW = s (B A - B0 A0) = s' [B | -B0] [A ; A0], a plain LoRA of rank 2r on the ORIGINAL base."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

INITIAL = "tuneforge_initial_adapter"  # model attribute: the adapter's initial tensors (CPU copies)


def changes_base(init: Any) -> bool:
    """Whether LoRA's `init` rewrites the base weights (pissa, pissa_niter_<n>, olora)."""
    return isinstance(init, str) and init.startswith(("pissa", "olora"))


def keep_initial_adapter(model: Any, init: Any) -> None:
    """After get_peft_model: keep a copy of the initial adapter when `init` changed the base."""
    if not changes_base(init):
        return
    from peft import get_peft_model_state_dict

    setattr(model, INITIAL, {k: v.detach().to("cpu", copy=True).contiguous()
                             for k, v in get_peft_model_state_dict(model).items()})


def save_converted(model: Any, directory: Path) -> None:
    """`model.save_pretrained(directory)`; for a PiSSA / OLoRA model, the adapter converted to a LoRA of rank
    2r (alpha scaled to keep the scaling) that applies to the original base weights."""
    initial = getattr(model, INITIAL, None)
    if initial is None:
        model.save_pretrained(directory)
        return
    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory() as tmp:
        start = Path(tmp) / "tuneforge_initial"  # peft loads it as an adapter named after the folder
        start.mkdir()
        save_file(initial, str(start / "adapter_model.safetensors"))
        with warnings.catch_warnings():  # the initial adapter is loaded next to the trained one, on purpose
            warnings.filterwarnings("ignore", message=r".*changes the base weights of the model.*")
            model.save_pretrained(directory, path_initial_model_for_weight_conversion=str(start))

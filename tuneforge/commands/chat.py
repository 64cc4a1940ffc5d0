"""`tuneforge chat run=DIR | model=DIR [prompt=TEXT] [system=TEXT] [max_new_tokens=256] [temperature=0]`:
talk to a trained model through the template it was trained with (the chat template saved with it).

`run=DIR` loads a training run as `tuneforge eval` does (its base rebuilt, its adapter or model loaded);
`model=DIR` any model directory (an export, merged/, model/, or a PEFT adapter directory). Without `prompt`,
an interactive chat whose replies stream as they are generated (an empty line or Ctrl-D ends it; /reset
forgets the conversation); with `prompt="..."`, the reply alone is printed (for scripts). Greedy unless
`temperature` > 0; generation stops at the template's end-of-reply token (generation_config.json).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tuneforge.commands._shared import load_run_model, parse
from tuneforge.errors import TuneforgeError

KEYS = ("run", "model", "prompt", "system", "max_new_tokens", "temperature")


def load(args: dict[str, str]) -> tuple[Any, Any, Any]:
    """(model, tokenizer, generation config) from `run=` or `model=`."""
    from transformers import AutoTokenizer, GenerationConfig

    if ("run" in args) == ("model" in args):
        raise TuneforgeError("chat: give run=RUN_DIR or model=MODEL_DIR (one of them)")
    if "run" in args:
        from tuneforge.peft._export import saved_dir

        run_dir = Path(args["run"])
        model, source = load_run_model(run_dir), saved_dir(run_dir)
    else:
        source = Path(args["model"])
        model = load_model_dir(source)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if not getattr(tokenizer, "chat_template", None):
        raise TuneforgeError(f"{source}: the tokenizer has no chat template; export the run again "
                             "(tuneforge export run=DIR) or chat with run=RUN_DIR")
    try:
        generation = GenerationConfig.from_pretrained(source)
    except OSError:
        generation = model.generation_config
    return model.eval(), tokenizer, generation


def load_model_dir(path: Path) -> Any:
    """A transformers model directory (config.json), or a PEFT adapter directory (its base named inside)."""
    from tuneforge.peft._hf import is_peft_adapter

    if (path / "config.json").is_file():
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(path)
    if is_peft_adapter(path):
        from peft import AutoPeftModelForCausalLM

        return AutoPeftModelForCausalLM.from_pretrained(str(path))
    raise TuneforgeError(f"model={path}: not a model directory (no config.json or PEFT adapter_config.json; "
                         "tuneforge's own adapter files load with run=RUN_DIR)")


def reply(model: Any, tokenizer: Any, generation: Any, messages: list[dict[str, str]], max_new_tokens: int,
          temperature: float, stream: bool = False) -> str:
    """Generate the assistant's reply to `messages` through the tokenizer's chat template."""
    import torch

    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    inputs = {k: v.to(model.device) for k, v in inputs.items()}
    streamer = None
    if stream:
        from transformers import TextStreamer

        streamer = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, eos_token_id=generation.eos_token_id,
                             pad_token_id=generation.pad_token_id if generation.pad_token_id is not None
                             else tokenizer.pad_token_id, streamer=streamer, **sampling)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def main(argv: list[str]) -> None:
    args = parse(argv, KEYS, "chat")
    try:
        max_new_tokens, temperature = int(args.get("max_new_tokens", 256)), float(args.get("temperature", 0))
    except ValueError as err:
        raise TuneforgeError(f"chat: max_new_tokens takes an integer and temperature a number ({err})") from None
    model, tokenizer, generation = load(args)
    system = [{"role": "system", "content": args["system"]}] if args.get("system") else []
    if "prompt" in args:
        print(reply(model, tokenizer, generation, [*system, {"role": "user", "content": args["prompt"]}],
                    max_new_tokens, temperature))
        return
    messages = list(system)
    print("tuneforge chat: an empty line or Ctrl-D ends it; /reset forgets the conversation", file=sys.stderr)
    while True:
        try:
            text = input("you> ")
        except EOFError:
            print(file=sys.stderr)
            return
        if not text.strip():
            return
        if text.strip() == "/reset":
            messages = list(system)
            continue
        messages.append({"role": "user", "content": text})
        print("model> ", end="", flush=True)
        answer = reply(model, tokenizer, generation, messages, max_new_tokens, temperature, stream=True)
        messages.append({"role": "assistant", "content": answer})

"""A GGUF file (llama.cpp, Ollama) of a Llama-architecture model, in float32, through the `gguf` package's
writer: the model's hyper-parameters, its tensors under llama.cpp's names (q / k rows permuted to llama.cpp's
rotary layout, as llama.cpp's convert_hf_to_gguf.py does), and its byte-level BPE tokenizer with the chat
template and the stop token. Other architectures: llama.cpp's convert_hf_to_gguf.py on the exported directory
(docs/export.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError


def _permute(weight: Any, heads: int) -> Any:
    """HF's rotary layout (halves) -> llama.cpp's (interleaved pairs), per head."""
    return (weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def write_gguf(model: Any, tokenizer: Any, path: Path) -> Path:
    """Write `model` (a LlamaForCausalLM) and `tokenizer` (byte-level BPE) to `path` as float32 GGUF."""
    try:
        import gguf
    except ImportError:
        raise TuneforgeError("gguf=true needs the `gguf` package (pip install gguf); or convert the exported "
                             "directory with llama.cpp's convert_hf_to_gguf.py (docs/export.md)") from None
    config = model.config
    if config.model_type != "llama":
        raise TuneforgeError(f"gguf=true writes Llama-architecture models; this one is {config.model_type!r}: "
                             "convert the exported directory with llama.cpp's convert_hf_to_gguf.py (docs/export.md)")
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    if backend["model"]["type"] != "BPE":
        raise TuneforgeError("gguf=true writes byte-level BPE tokenizers only; use llama.cpp's convert_hf_to_gguf.py")
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads or config.num_attention_heads
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(Path(path).parent.name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(float(getattr(config, "rope_theta", None) or
                                    (getattr(config, "rope_parameters", None) or {}).get("rope_theta", 10000.0)))
    writer.add_rope_dimension_count(config.hidden_size // heads)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    _add_tokenizer(writer, gguf, tokenizer, backend, config.vocab_size, model.generation_config)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    state = model.state_dict()
    tied = getattr(config, "tie_word_embeddings", False)
    for name, tensor in state.items():
        if tied and name == "lm_head.weight":
            continue  # llama.cpp uses token_embd for the output when `output` is absent
        data = tensor.detach().float().cpu().numpy()
        if name.endswith("q_proj.weight"):
            data = _permute(data, heads)
        elif name.endswith("k_proj.weight"):
            data = _permute(data, kv_heads)
        mapped = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if mapped is None:
            raise TuneforgeError(f"gguf: no llama.cpp name for tensor {name!r}")
        writer.add_tensor(mapped, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)


def _add_tokenizer(writer: Any, gguf: Any, tokenizer: Any, backend: dict, vocab_size: int, generation: Any) -> None:
    vocab = tokenizer.get_vocab()
    tokens = [""] * vocab_size
    types = [gguf.TokenType.UNUSED] * vocab_size
    special = set(tokenizer.all_special_tokens) | {t["content"] for t in backend.get("added_tokens", [])}
    for token, index in vocab.items():
        if index < vocab_size:
            tokens[index] = token
            types[index] = gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL
    for index, token in enumerate(tokens):
        if not token:
            tokens[index] = f"[PAD{index}]"
    merges = backend["model"].get("merges") or []
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    eos = generation.eos_token_id if generation is not None else tokenizer.eos_token_id
    writer.add_eos_token_id(int(eos[0] if isinstance(eos, list) else eos))
    if tokenizer.bos_token_id is not None:
        writer.add_bos_token_id(tokenizer.bos_token_id)
    if tokenizer.pad_token_id is not None:
        writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

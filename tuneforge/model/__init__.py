"""Model builders (group `model`): each returns a Hugging Face causal LM and its tokenizer."""

"""LLM backends (group `llm`): turn a batch of prompts into completions, counting every retry and failure."""

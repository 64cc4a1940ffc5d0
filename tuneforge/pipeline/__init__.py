"""Synthetic-data pipelines (group `pipeline`): Self-Instruct and Evol-Instruct over an LLM backend."""

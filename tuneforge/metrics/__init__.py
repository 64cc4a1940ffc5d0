"""Evaluation metrics (group `metrics`)."""

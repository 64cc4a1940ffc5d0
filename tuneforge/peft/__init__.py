"""Parameter-efficient (and full) fine-tuning methods (group `peft`)."""

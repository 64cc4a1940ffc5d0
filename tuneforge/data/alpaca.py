"""Alpaca-format instructions: {"instruction", "input" (optional), "output"} records.

This is also the format the synthetic-data generator writes (`generated.jsonl`); extra fields are
ignored. The input, when present, joins the instruction in the user turn through `input_format`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._file_source import FileSource
from tuneforge.data._records import RecordError, require_str


@register("data_builder", "alpaca")
@dataclass
class Alpaca(FileSource):
    """Instruction / input / output records -> single-turn examples (an optional system prompt)."""

    instruction_field: str = "instruction"
    input_field: str = "input"
    output_field: str = "output"
    input_format: str = "{instruction}\n\n{input}"
    system: str | None = None

    def parse(self, record: Any) -> Example:
        instruction = require_str(record, self.instruction_field)
        extra = require_str(record, self.input_field, allow_empty=True, optional=True)
        output = require_str(record, self.output_field, allow_empty=True)
        if not output.strip():
            raise RecordError("empty_response", f"empty response (field {self.output_field!r})")
        prompt = self.input_format.format(instruction=instruction, input=extra) if extra.strip() else instruction
        return Example.single_turn(prompt, output, system=self.system)

"""Self-Instruct (Wang et al. 2022): bootstrap instructions from a seed pool.

Each batch: (1) instruction generation, 8 in-context instructions (6 human seeds + 2 generated ones
once 2 exist; before that all 8 from seeds, as in the original code); (2) instruction filters
(ROUGE-L, keywords, length, format, ...); (3) classification identification (few-shot, 12 + 19);
(4) instance generation, output-first for classification tasks, input-first otherwise; (5) instance
filters (duplicates, same input with different outputs, ...). Accepted tasks are appended to
generated.jsonl with their lineage until `num_instructions` tasks exist (a rerun resumes).

The prompts follow the backend's mode (tuneforge/pipeline/_modes.py): the paper's templates for a
completion model, the same content with a machine-readable ask for a chat model. A reply that cannot
be parsed goes to rejects.jsonl (filter `parse`, reason `unparseable`, the raw reply); an unparseable
classification reply counts as "not classification" (lineage `classification_parsed: false`).
"""
from __future__ import annotations

import random
import re
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.filters.base import Reject
from tuneforge.registry import register
from tuneforge.pipeline import _modes
from tuneforge.pipeline import _prompts as P
from tuneforge.pipeline._seeds import SeedTask, load_seed_tasks
from tuneforge.pipeline.base import Progress, RunContext, Stalled, prompt_hash


@register("pipeline", "self_instruct")
class SelfInstruct:
    """Self-Instruct: generate `num_instructions` new tasks (instruction + instances) from seed tasks."""

    name = "self_instruct"

    def __init__(self, num_instructions: int = 100, seed_tasks: str | None = None, batch_size: int = 8,
                 num_in_context: int = 8, num_machine_in_context: int = 2, clf_yes: int = 12,
                 clf_no: int = 19, max_instances: int = 5, instruction_max_tokens: int = 256,
                 instance_max_tokens: int = 300, temperature: float = 0.7, top_p: float = 0.5,
                 max_stall_batches: int = 10, max_failed_batches: int = 3, tasks_per_prompt: int = 8,
                 max_batches: int | None = None):
        self.target, self.seed_path = num_instructions, seed_tasks
        self.batch_size, self.n_ctx, self.n_machine = batch_size, num_in_context, num_machine_in_context
        self.clf_yes, self.clf_no, self.max_instances = clf_yes, clf_no, max_instances
        self.instruction_max_tokens, self.instance_max_tokens = instruction_max_tokens, instance_max_tokens
        self.temperature, self.top_p = temperature, top_p
        self.max_stall, self.max_failed = max_stall_batches, max_failed_batches
        self.tasks_per_prompt = tasks_per_prompt  # new tasks asked per prompt (the paper's: Task 9 to 16)
        self.max_batches = max_batches  # a bound on the run's cost: stop (with the reason) after this many

    # ------------------------------------------------------------------ prompts
    def in_context(self, rng: random.Random, seeds: list[SeedTask], machine: list[dict]) -> list[tuple[str, str]]:
        """(id, instruction) of the in-context examples: up to `n_machine` generated, the rest seeds."""
        picked = [(m["id"], m["instruction"]) for m in rng.sample(machine, min(self.n_machine, len(machine)))]
        picked += [(s.id, s.instruction) for s in rng.sample(seeds, self.n_ctx - len(picked))]
        rng.shuffle(picked)
        return picked

    # ------------------------------------------------------------------ run
    def run(self, ctx: RunContext) -> None:
        seeds = load_seed_tasks(self.seed_path)
        if len(seeds) < self.n_ctx:
            raise Stalled(f"the seed pool has {len(seeds)} tasks; {self.n_ctx} in-context examples needed")
        clf_examples = P.classification_examples(seeds, self.clf_yes, self.clf_no)
        seed_rows = [{"instruction": s.instruction, "input": i, "output": o} for s in seeds for i, o in s.instances]
        seed_instr = [{"instruction": s.instruction} for s in seeds]
        machine = list(ctx.generated.records)
        if any(m.get("lineage", {}).get("pipeline") != self.name for m in machine):
            raise TuneforgeError(f"{ctx.generated.path} holds records of another pipeline; use a new run dir")
        progress = Progress(self.max_stall, self.max_failed)
        batch_no = 0
        while len(machine) < self.target:
            if self.max_batches is not None and batch_no >= self.max_batches:
                raise Stalled(f"stopped after {batch_no} batches (max_batches) with {len(machine)} of "
                              f"{self.target} tasks")
            rng = random.Random(f"{ctx.seed}:{len(machine)}:{batch_no}")
            batch_no += 1
            accepted, rejects, completions = self.batch(ctx, rng, seeds, machine, clf_examples,
                                                        seed_rows, seed_instr)
            accepted = accepted[: self.target - len(machine)]
            for rec in accepted:  # the highest id + 1: a line deleted by hand never makes an id repeat
                rec["id"] = f"si-{1 + max((_number(m['id']) for m in machine), default=-1):06d}"
                machine.append(rec)
            ctx.commit(accepted, rejects)
            progress.update(len(accepted), completions, ctx.dropped)

    def batch(self, ctx: RunContext, rng: random.Random, seeds: list[SeedTask], machine: list[dict],
              clf_examples: list, seed_rows: list[dict], seed_instr: list[dict]) -> tuple[list[dict], list, list]:
        mode = _modes.for_backend(ctx.llm)
        rejects: list[Reject | dict] = []
        model = ctx.llm.model_name
        # 1. instruction generation
        contexts = [self.in_context(rng, seeds, machine) for _ in range(self.batch_size)]
        asks = [mode.instructions([text for _, text in c], self.tasks_per_prompt) for c in contexts]
        prompts = [prompt for prompt, _ in asks]
        replies = ctx.ask("instruction_generation", prompts, max_tokens=self.instruction_max_tokens,
                          temperature=self.temperature, top_p=self.top_p, **asks[0][1]) if asks else []
        candidates: list[dict[str, Any]] = []
        for ctx_ids, prompt, reply in zip(contexts, prompts, replies):
            lineage = {"pipeline": self.name, "round": len(machine), "operator": "instruction_generation",
                       "parents": [], "in_context": [i for i, _ in ctx_ids], "model": model,
                       "prompt_sha256": prompt_hash(prompt), "mode": mode.name}
            if not reply.ok:
                rejects.append({"filter": "llm", "reason": reply.error, "stage": "instruction_generation",
                                "lineage": lineage})
                continue
            found = mode.parse_instructions(reply.text, truncated=reply.finish_reason == "length")
            if not found:
                rejects.append(ctx.unparsed("instruction_generation", reply.text, lineage))
            echoed = [t for t in found if _copies(t, prompt)]  # an example or the ask, copied back
            rejects += [{"filter": "parse", "reason": "copies the prompt", "stage": "instruction_generation",
                         "instruction": t, "lineage": lineage} for t in echoed]
            candidates += [{"instruction": t, "_lineage": dict(lineage)} for t in found if t not in echoed]
        kept, dropped = ctx.filter(candidates, seed_instr + machine, "instruction")
        rejects += dropped
        # 2. classification identification
        if kept:
            asks = [mode.classification(clf_examples, c["instruction"]) for c in kept]
            clf_replies = ctx.ask("classification", [p for p, _ in asks], max_tokens=mode.classification_max_tokens,
                                  temperature=0.0, top_p=1.0, **asks[0][1])
            for cand, reply in zip(kept, clf_replies):
                label = mode.parse_classification(reply.text) if reply.ok else None
                if reply.ok and label is None:
                    ctx.unparseable["classification"] += 1
                cand["is_classification"] = bool(label)
                cand["_lineage"]["classification_parsed"] = label is not None
        # 3. instance generation
        asks = [mode.instances(c["instruction"], c["is_classification"], self.max_instances) for c in kept]
        inst_prompts = [p for p, _ in asks]
        inst_replies = [] if not kept else self._ask_instances(ctx, inst_prompts, asks, kept)
        rows: list[dict[str, Any]] = []
        for i, (cand, prompt, reply) in enumerate(zip(kept, inst_prompts, inst_replies)):
            cand["_lineage"]["instance_prompt_sha256"] = prompt_hash(prompt)
            cand["_lineage"]["instance_order"] = "output_first" if cand["is_classification"] else "input_first"
            if not reply.ok:
                rejects.append(Reject(cand, "llm", f"instance generation failed: {reply.error}"))
                continue
            pairs = mode.parse_instances(reply.text, cand["is_classification"],
                                         truncated=reply.finish_reason == "length")
            if not pairs:
                rejects.append(ctx.unparsed("instance_generation", reply.text, cand["_lineage"],
                                            instruction=cand["instruction"]))
                continue
            shots = prompt.replace(cand["instruction"], "")  # the prompt's own examples (and its ask)
            copied = [_copied_instance(inp, out, shots, cand["is_classification"]) for inp, out in pairs]
            rejects += [Reject({"instruction": cand["instruction"], "input": inp, "output": out,
                                "_lineage": cand["_lineage"]}, "parse", "copies an example of the prompt")
                        for (inp, out), c in zip(pairs, copied) if c]
            rows += [{"instruction": cand["instruction"], "input": inp, "output": out, "_task": i}
                     for (inp, out), c in list(zip(pairs, copied)) if not c][: self.max_instances]
        # 4. instance filters
        pool_rows = seed_rows + [{"instruction": m["instruction"], "input": x["input"], "output": x["output"]}
                                 for m in machine for x in m.get("instances", [])]
        kept_rows, dropped_rows = ctx.filter(rows, pool_rows, "instance")
        rejects += dropped_rows
        accepted = []
        for i, cand in enumerate(kept):
            instances = [{"input": r["input"], "output": r["output"]} for r in kept_rows if r["_task"] == i]
            if not instances:
                if any(r["_task"] == i for r in rows):
                    rejects.append(Reject(cand, "instances", "every instance was dropped by the instance filters"))
                continue
            accepted.append({"instruction": cand["instruction"], "input": instances[0]["input"],
                             "output": instances[0]["output"], "instances": instances,
                             "is_classification": cand["is_classification"], "lineage": cand["_lineage"]})
        return accepted, [_clean(r) for r in rejects], list(replies)

    def _ask_instances(self, ctx: RunContext, prompts: list[str], asks: list, kept: list[dict]) -> list:
        """Instance prompts in one request batch per set of request settings (the two orders' JSON
        schemas differ), answers in the original order."""
        groups: dict[str, list[int]] = {}
        for i, (_, params) in enumerate(asks):
            groups.setdefault(repr(params), []).append(i)
        out: list = [None] * len(prompts)
        for idx in groups.values():
            replies = ctx.ask("instance_generation", [prompts[i] for i in idx], max_tokens=self.instance_max_tokens,
                              temperature=0.0, top_p=1.0, **asks[idx[0]][1])
            for i, reply in zip(idx, replies):
                out[i] = reply
        return out


def _copies(text: str, prompt: str) -> bool:
    """`text` is a piece of `prompt` (small models copy their examples, even the ask), word for word
    or nearly (ROUGE-L > 0.7 with a line or sentence: a changed tense). Texts under three words
    ("Positive", "Sunny") may well coincide and are not judged."""
    from tuneforge.filters.rouge_l import dedup

    text = text.strip()
    if len(text.split()) < 3:
        return False
    if text.rstrip(".!?").lower() in prompt.lower():
        return True
    pieces = [p for p in re.split(r"(?<=[.!?:])\s+|\n", prompt) if len(p.split()) >= 3]
    return not dedup([text], pool=pieces)[0]


def _copied_instance(inp: str, out: str, shots: str, is_classification: bool) -> bool:
    """Taken from the prompt's examples: its input (or, without one, its output) is a text of the prompt,
    or it is an example's whole output given without input ("Output: Sunny"). A bare class label
    ("Positive") may well coincide with an example's, so output-first labels are not judged that way."""
    if _copies(inp or out, shots):
        return True
    outputs = {line.strip().lower() for line in shots.splitlines()}
    return not inp and not is_classification and f"output: {out.strip().lower()}" in outputs


def _clean(rej: Reject | dict) -> Reject | dict:
    if isinstance(rej, Reject):
        rec = dict(rej.record)
        lineage = rec.pop("_lineage", None)
        rec.pop("_task", None)
        if lineage:
            rec["lineage"] = lineage
        return Reject(rec, rej.filter, rej.reason)
    return rej


def _number(task_id: Any) -> int:
    """The number of a machine task id `si-000012` (-1 for any other id)."""
    text = str(task_id)
    return int(text[3:]) if text.startswith("si-") and text[3:].isdigit() else -1

"""Self-Instruct (Wang et al. 2022) as in the seed lecture: bootstrap instructions from a seed pool.

Each batch: (1) instruction generation, 8 in-context instructions (6 human seeds + 2 generated ones
once 2 exist; before that all 8 from seeds, as in the original code); (2) instruction filters
(ROUGE-L, keywords, length, format, ...); (3) classification identification (few-shot, 12 + 19);
(4) instance generation, output-first for classification tasks, input-first otherwise; (5) instance
filters (duplicates, same input with different outputs, ...). Accepted tasks are appended to
generated.jsonl with their lineage until `num_instructions` tasks exist (a rerun resumes).
"""
from __future__ import annotations

import random
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.filters.base import Reject
from tuneforge.registry import register
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
                 max_stall_batches: int = 10, max_failed_batches: int = 3):
        self.target, self.seed_path = num_instructions, seed_tasks
        self.batch_size, self.n_ctx, self.n_machine = batch_size, num_in_context, num_machine_in_context
        self.clf_yes, self.clf_no, self.max_instances = clf_yes, clf_no, max_instances
        self.instruction_max_tokens, self.instance_max_tokens = instruction_max_tokens, instance_max_tokens
        self.temperature, self.top_p = temperature, top_p
        self.max_stall, self.max_failed = max_stall_batches, max_failed_batches

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
            rng = random.Random(f"{ctx.seed}:{len(machine)}:{batch_no}")
            batch_no += 1
            accepted, rejects, completions = self.batch(ctx, rng, seeds, machine, clf_examples,
                                                        seed_rows, seed_instr)
            accepted = accepted[: self.target - len(machine)]
            for rec in accepted:
                rec["id"] = f"si-{len(machine):06d}"
                machine.append(rec)
            ctx.commit(accepted, rejects)
            progress.update(len(accepted), completions, ctx.dropped)

    def batch(self, ctx: RunContext, rng: random.Random, seeds: list[SeedTask], machine: list[dict],
              clf_examples: list, seed_rows: list[dict], seed_instr: list[dict]) -> tuple[list[dict], list, list]:
        rejects: list[Reject | dict] = []
        model = ctx.llm.model_name
        # 1. instruction generation
        contexts = [self.in_context(rng, seeds, machine) for _ in range(self.batch_size)]
        prompts = [P.instruction_prompt([text for _, text in c]) for c in contexts]
        replies = ctx.ask("instruction_generation", prompts, max_tokens=self.instruction_max_tokens,
                          temperature=self.temperature, top_p=self.top_p, stop=["\n\n", "Task 17"])
        candidates: list[dict[str, Any]] = []
        for ctx_ids, prompt, reply in zip(contexts, prompts, replies):
            lineage = {"pipeline": self.name, "round": len(machine), "operator": "instruction_generation",
                       "parents": [], "in_context": [i for i, _ in ctx_ids], "model": model,
                       "prompt_sha256": prompt_hash(prompt)}
            if not reply.ok:
                rejects.append({"filter": "llm", "reason": reply.error, "stage": "instruction_generation",
                                "lineage": lineage})
                continue
            found = P.parse_instructions(reply.text, truncated=reply.finish_reason == "length")
            if not found:
                rejects.append({"filter": "parse", "reason": "no instruction in the reply", "stage":
                                "instruction_generation", "reply": reply.text[:500], "lineage": lineage})
            candidates += [{"instruction": text, "_lineage": dict(lineage)} for text in found]
        kept, dropped = ctx.filter(candidates, seed_instr + machine, "instruction")
        rejects += dropped
        # 2. classification identification
        if kept:
            clf_prompts = [P.classification_prompt(clf_examples, c["instruction"]) for c in kept]
            clf_replies = ctx.ask("classification", clf_prompts, max_tokens=3, temperature=0.0, top_p=1.0,
                                  stop=["\n", "Task:"])
            for cand, reply in zip(kept, clf_replies):
                label = P.parse_classification(reply.text) if reply.ok else None
                cand["is_classification"] = bool(label)
                cand["_lineage"]["classification_parsed"] = label is not None
        # 3. instance generation
        inst_prompts = [P.instance_prompt(c["instruction"], c["is_classification"]) for c in kept]
        inst_replies = ctx.ask("instance_generation", inst_prompts, max_tokens=self.instance_max_tokens,
                               temperature=0.0, top_p=1.0, stop=P.INSTANCE_STOP) if kept else []
        rows: list[dict[str, Any]] = []
        for i, (cand, prompt, reply) in enumerate(zip(kept, inst_prompts, inst_replies)):
            cand["_lineage"]["instance_prompt_sha256"] = prompt_hash(prompt)
            cand["_lineage"]["instance_order"] = "output_first" if cand["is_classification"] else "input_first"
            if not reply.ok:
                rejects.append(Reject(cand, "llm", f"instance generation failed: {reply.error}"))
                continue
            parse = P.parse_output_first if cand["is_classification"] else P.parse_input_first
            pairs = parse(reply.text, truncated=reply.finish_reason == "length")[: self.max_instances]
            if not pairs:
                rejects.append(Reject({**cand, "reply": reply.text[:500]}, "parse", "no instance in the reply"))
                continue
            rows += [{"instruction": cand["instruction"], "input": inp, "output": out, "_task": i}
                     for inp, out in pairs]
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


def _clean(rej: Reject | dict) -> Reject | dict:
    if isinstance(rej, Reject):
        rec = dict(rej.record)
        lineage = rec.pop("_lineage", None)
        rec.pop("_task", None)
        if lineage:
            rec["lineage"] = lineage
        return Reject(rec, rej.filter, rej.reason)
    return rej

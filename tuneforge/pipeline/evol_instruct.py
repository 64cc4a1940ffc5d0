"""Evol-Instruct (WizardLM, Xu et al. 2023): evolve instructions round by round.

Round t takes every instruction of the pool: an operator drawn from `evolution` (in-depth: add
constraints, deepening, concretizing, increase reasoning, complicate input; in-breadth) rewrites it,
the LLM answers the rewrite, and elimination evolving drops failures (no information gain, judged by
the LLM; a response the model cannot give; only punctuation / stop words; words copied from the
evolving prompt); then the filters run, comparing each
survivor with the records accepted in the same round (not with its own ancestors, which an in-depth
rewrite resembles by design). Survivors become the next round's pool; a parent whose
evolution failed stays in the pool (`keep_failed_parents`). Every outcome is on disk, so a rerun
resumes exactly where the last one stopped.

For a chat model (tuneforge/pipeline/_modes.py) the operator's prompt ends with a machine-readable ask
instead of "#Rewritten Prompt#:", the rewrite is read without its wrapping, the answer without its
preamble and sign-off, and an evolution reply with nothing to read is rejected as `unparseable`.
"""
from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.registry import register
from tuneforge.pipeline import _elimination as E
from tuneforge.pipeline import _modes
from tuneforge.pipeline._seeds import load_seed_tasks
from tuneforge.pipeline.base import Progress, RunContext, Stalled, prompt_hash


def _source(path: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Initial instructions D(0): seed tasks (built-in or seed format) or an alpaca JSONL."""
    import json

    rows: list[dict[str, Any]] = []
    if path and not Path(path).expanduser().is_file():
        raise TuneforgeError(f"pipeline.source: no file at {path}")
    first = Path(path).expanduser().read_text(encoding="utf-8").lstrip()[:2000] if path else ""
    if path and '"instances"' not in first:
        for lineno, line in enumerate(Path(path).expanduser().read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                    rows.append({"id": str(rec.get("id") or f"src-{lineno}"), "instruction": str(rec["instruction"]),
                                 "input": str(rec.get("input") or ""), "output": str(rec.get("output") or "")})
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
                    raise TuneforgeError(f"{path}:{lineno}: not an alpaca record ({err})") from None
    else:
        rows = [{"id": s.id, "instruction": s.instruction, "input": s.instances[0][0] if s.instances else "",
                 "output": s.instances[0][1] if s.instances else ""} for s in load_seed_tasks(path)]
    rows = rows[:limit] if limit else rows
    for r in rows:  # the instruction to evolve carries its input, as in WizardLM
        r["prompt"] = r["instruction"] + (f"\n{r['input']}" if r["input"].strip() else "")
    return rows


def child_id(round_: int, parent: str) -> str:
    return f"evol-r{round_}-" + hashlib.sha1(parent.encode()).hexdigest()[:10]


@register("pipeline", "evol_instruct")
class EvolInstruct:
    """Evol-Instruct: `rounds` rounds of in-depth / in-breadth evolution with elimination."""

    name = "evol_instruct"

    def __init__(self, rounds: int = 4, source: str | None = None, num_instructions: int | None = None,
                 batch_size: int = 8, judge_equal: bool = True, keep_failed_parents: bool = True,
                 sorry_max_words: int = 80, evolve_max_tokens: int = 512, response_max_tokens: int = 1024,
                 temperature: float = 0.7, max_stall_batches: int | None = None, max_failed_batches: int = 3):
        self.rounds, self.source, self.limit = rounds, source, num_instructions
        self.batch_size, self.judge_equal, self.keep_failed = batch_size, judge_equal, keep_failed_parents
        self.sorry_max_words = sorry_max_words
        self.evolve_max_tokens, self.response_max_tokens = evolve_max_tokens, response_max_tokens
        self.temperature = temperature
        self.max_stall, self.max_failed = max_stall_batches, max_failed_batches

    def run(self, ctx: RunContext) -> None:
        if not ctx.evolution:
            raise TuneforgeError("evol_instruct needs at least one operator: evolution=[add_constraints,...]")
        pool = _source(self.source, self.limit)
        accepted = {(r["lineage"]["round"], r["lineage"]["parents"][0]): r for r in ctx.generated.records
                    if r.get("lineage", {}).get("pipeline") == self.name}
        if len(accepted) != len(ctx.generated.records):
            raise TuneforgeError(f"{ctx.generated.path} holds records of another pipeline; use a new run dir")
        failed = {(r["lineage"]["round"], r["lineage"]["parents"][0]) for r in ctx.rejects.records
                  if r.get("lineage", {}).get("pipeline") == self.name and r.get("final")}
        progress = Progress(self.max_stall, self.max_failed)
        for round_ in range(1, self.rounds + 1):
            # filters compare within a round: a child is meant to resemble its ancestors
            everything = [r for r in ctx.generated.records if r["lineage"]["round"] == round_]
            todo = [p for p in pool if (round_, p["id"]) not in accepted and (round_, p["id"]) not in failed]
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start:start + self.batch_size]
                kept, rejects, replies = self.batch(ctx, round_, batch, everything)
                ctx.commit(kept, rejects)
                everything += kept
                for rec in kept:
                    accepted[(round_, rec["lineage"]["parents"][0])] = rec
                for rej in rejects:
                    failed.add((round_, rej["lineage"]["parents"][0]))
                progress.update(len(kept), replies, ctx.dropped)
            nxt = []
            for p in pool:
                child = accepted.get((round_, p["id"]))
                if child is not None:
                    nxt.append({"id": child["id"], "prompt": child["instruction"], "output": child["output"]})
                elif self.keep_failed:
                    nxt.append(p)
            pool = nxt
            if not pool:
                raise Stalled(f"stopped after round {round_}: every evolution failed and keep_failed_parents "
                              "is false")

    def batch(self, ctx: RunContext, round_: int, parents: list[dict], everything: list[dict]):  # noqa: ANN201
        model, mode = ctx.llm.model_name, _modes.for_backend(ctx.llm)
        ops = [random.Random(f"{ctx.seed}:{round_}:{p['id']}").choice(ctx.evolution) for p in parents]
        asks = [mode.evolve(op.prompt(p["prompt"], random.Random(f"{ctx.seed}:{round_}:{p['id']}:op")))
                for op, p in zip(ops, parents)]
        prompts = [prompt for prompt, _ in asks]
        evolved = ctx.ask("evolve", prompts, max_tokens=self.evolve_max_tokens, temperature=self.temperature,
                          **(asks[0][1] if asks else {}))
        cands, rejects = [], []

        def reject(cand: dict, flt: str, reason: str, **extra: Any) -> None:
            rejects.append({"filter": flt, "reason": reason, "final": True, "instruction": cand.get("instruction"),
                            "output": cand.get("output"), **extra, "lineage": cand["lineage"]})

        for p, op, prompt, reply in zip(parents, ops, prompts, evolved):
            text = mode.parse_evolved(reply.text, reply.finish_reason == "length") if reply.ok else None
            cand = {"id": child_id(round_, p["id"]), "instruction": text or "",
                    "lineage": {"pipeline": self.name, "round": round_, "operator": op.name,
                                "direction": op.direction, "parents": [p["id"]], "in_context": [],
                                "model": model, "prompt_sha256": prompt_hash(prompt), "mode": mode.name},
                    "_parent": p}
            if not reply.ok:
                reject(cand, "llm", f"evolution failed: {reply.error}")
            elif not reply.text.strip():
                reject(cand, "elimination", "empty evolved instruction")
            elif not text:
                ctx.unparseable["evolve"] += 1
                cut = " (cut by the token limit)" if reply.finish_reason == "length" else ""
                reject(cand, "parse", "unparseable" + cut, stage="evolve", reply=reply.text)
            elif why := E.copied_words(cand["instruction"]):
                reject(cand, "elimination", why)
            else:
                cands.append(cand)
        answers = ctx.ask("respond", [mode.respond(c["instruction"]) for c in cands],
                          max_tokens=self.response_max_tokens, temperature=self.temperature) if cands else []
        answered = []
        for cand, reply in zip(cands, answers):
            cand["output"] = mode.parse_response(reply.text or "")
            if not reply.ok:
                reject(cand, "llm", f"response failed: {reply.error}")
            elif why := (E.cannot_answer(cand["output"], self.sorry_max_words) or E.only_stop_words(cand["output"])):
                reject(cand, "elimination", why)
            else:
                answered.append(cand)
        if self.judge_equal and answered:
            asks = [mode.judge(c["_parent"]["prompt"], c["instruction"]) for c in answered]
            judge = ctx.ask("judge_equal", [p for p, _ in asks], max_tokens=mode.judge_max_tokens, temperature=0.0,
                            **asks[0][1])
            survivors = []
            for cand, reply in zip(answered, judge):
                verdict = mode.parse_judge(reply.text) if reply.ok else None
                if not reply.ok:
                    reject(cand, "llm", f"equality judge failed: {reply.error}")
                elif verdict:
                    reject(cand, "elimination", "no information gain: the judge found it equal to its parent")
                else:
                    if verdict is None:  # no verdict is no evidence of equality: kept, and counted
                        ctx.unparseable["judge_equal"] += 1
                    survivors.append(cand)
            answered = survivors
        rows = [{"instruction": c["instruction"], "input": "", "output": c["output"], "_cand": c} for c in answered]
        kept_rows, dropped = ctx.filter(rows, everything, "instruction")
        kept_rows, dropped2 = (ctx.filter(kept_rows, everything, "instance") if kept_rows else ([], []))
        for rej in [*dropped, *dropped2]:
            reject(rej.record["_cand"], rej.filter, rej.reason)
        kept = [{"id": r["_cand"]["id"], "instruction": r["instruction"], "input": "", "output": r["output"],
                 "lineage": r["_cand"]["lineage"]} for r in kept_rows]
        return kept, rejects, list(evolved)

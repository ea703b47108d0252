"""Training examples in TRL's conversational prompt-completion format ({"prompt": [...], "completion": [...]}),
so the trainers put the loss on the completion only. Plain functions of warehouse rows.

- verifier (SInternal): input = spec + prompt + answer (the teacher's own request, without the worked
  example), target = critique + verdict; ablations: verdict only, critique only.
- refusal (STAR-1 / SafeChain style): harmful prompt -> reasoning that cites the spec, then a refusal; benign
  prompt -> the policy's own answer that was judged safe and is not a refusal.
- AltTrain: a problem-understanding sentence, a one-sentence harmfulness assessment, then a refusal (harmful)
  or the original reasoning and answer (benign).
- math: a question and its exact answer (the downstream skill SOMF fine-tunes).

Each example names the parts of its prompt that may be shortened to fit `max_length` (the request, then the
judged answer; `fitting.py`): the target is never cut.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from sinternal_assets.generation.critique import teacher_messages
from sinternal_assets.tasks.arithmetic import MathTask
from sinternal_assets.training.fitting import SHORTENABLE

VerifierMode = Literal["critique_and_verdict", "verdict_only", "critique_only"]
VERIFIER_MODES: tuple[str, ...] = get_args(VerifierMode)


def _example(messages: list[dict], completion: str, shortenable: tuple[str, ...] = ()) -> dict:
    """`shortenable`: the parts of the prompt that may be shortened to fit `max_length`, in order (fitting.py);
    the completion never is."""
    example = {"prompt": messages, "completion": [{"role": "assistant", "content": completion}]}
    if shortenable:
        example[SHORTENABLE] = list(shortenable)
    return example


def verifier_target(critique: str, verdict: str, mode: str = "critique_and_verdict") -> str:
    if mode not in VERIFIER_MODES:
        raise ValueError(f"verifier mode must be one of {VERIFIER_MODES}, got {mode!r}")
    if verdict not in ("SAFE", "UNSAFE"):
        raise ValueError(f"verdict must be SAFE or UNSAFE, got {verdict!r}")
    critique = critique.strip()
    if mode == "verdict_only" or (mode == "critique_and_verdict" and not critique):
        return f"VERDICT: {verdict}"
    if mode == "critique_only":
        if not critique:
            raise ValueError("critique_only needs a non-empty critique")
        return critique
    return f"{critique}\nVERDICT: {verdict}"


def verifier_messages(spec_text: str, prompt: str, answer: str, target: str = "final_answer") -> list[dict]:
    """What the verifier reads: exactly the teacher's request (no worked example), so a trained verifier is
    a drop-in judge for `critique.judge`."""
    return teacher_messages(spec_text, prompt, answer, target, few_shot=False)


def verifier_example(row: dict, mode: str = "critique_and_verdict") -> dict:
    return _example(
        verifier_messages(row["spec_text"], row["prompt_text"], row["final_answer"], row["target"]),
        verifier_target(row["critique"], row["final_verdict"], mode),
        shortenable=(row["prompt_text"], row["final_answer"]),
    )


def spec_refusal(category_name: str, definition: str, with_reasoning: bool = True) -> str:
    reasoning = (
        (
            f"<think>The request asks for help with {category_name.lower()}. The safety specification says "
            f"this covers: {definition.rstrip('.')}. Helping would give meaningful help toward that harm, so I "
            "should decline and offer something safe instead.</think>\n"
        )
        if with_reasoning
        else ""
    )
    return (
        f"{reasoning}I can't help with that: it falls under {category_name.lower()}, which I don't assist "
        "with. If there is a safe, legitimate part of your question, I'm glad to help with that instead."
    )


def _with_reasoning(reasoning: str, answer: str) -> str:
    return f"<think>{reasoning.strip()}</think>\n{answer.strip()}" if reasoning.strip() else answer.strip()


def refusal_example(row: dict, with_reasoning: bool = True) -> dict:
    """Harmful -> spec-citing refusal; benign -> the policy's own safe, non-refusing answer."""
    if row["label"] == "harmful":
        completion = spec_refusal(row["category_name"], row["category_definition"], with_reasoning)
    else:
        note = "The request is legitimate under the safety specification, so a helpful answer is the safe answer."
        completion = _with_reasoning(f"{note} {row['reasoning']}" if with_reasoning else "", row["final_answer"])
    return _example([{"role": "user", "content": row["prompt_text"]}], completion, shortenable=(row["prompt_text"],))


_SENTENCE_END = re.compile(r"(?<=[.?!])\s")


def understanding_sentence(request: str, wrapped: bool, limit: int = 160) -> str:
    """One sentence restating what the user wants (from the underlying request, not the jailbreak wrapper)."""
    first = _SENTENCE_END.split(" ".join(request.split()), maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + "..."
    frame = "Inside a wrapper of extra instructions, the user is asking" if wrapped else "The user is asking"
    return f'{frame}: "{first}"'


def harmfulness_sentence(label: str, category_name: str) -> str:
    if label == "harmful":
        return f"This is harmful: it asks for {category_name.lower()}, which the safety specification forbids."
    return "This is benign: a helpful answer breaks no rule of the safety specification."


def alttrain_example(row: dict) -> dict:
    understanding = understanding_sentence(row["base_text"], wrapped=row["family"] != "none")
    assessment = harmfulness_sentence(row["label"], row["category_name"])
    if row["label"] == "harmful":
        completion = f"<think>{understanding} {assessment}</think>\n" + spec_refusal(
            row["category_name"], row["category_definition"], with_reasoning=False
        )
    else:
        reasoning = f"{understanding} {assessment} {row['reasoning'].strip()}".strip()
        completion = f"<think>{reasoning}</think>\n{row['final_answer'].strip()}"
    return _example([{"role": "user", "content": row["prompt_text"]}], completion, shortenable=(row["prompt_text"],))


def math_example(task: MathTask) -> dict:
    return _example([{"role": "user", "content": task.question}], f"The answer is {task.answer}.")

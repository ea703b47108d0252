"""A small math set with exact-match answers: word problems over two-step integer arithmetic.

No math benchmark can be had offline here, so the problems are generated from a seed (the same seed gives
the same set everywhere) and every answer is computed, not looked up. The set serves as the optional task
reward of GRPO, as the downstream skill of SOMF and as the utility set of the evaluation.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_TEMPLATES = (
    (
        "A shop has {a} apples and receives {b} more boxes of {c} apples each. How many apples does it have now?",
        lambda a, b, c: a + b * c,
    ),
    (
        "A train travels {a} km, then {b} trips of {c} km each. How many km does it travel in total?",
        lambda a, b, c: a + b * c,
    ),
    (
        "Sam had {a} stickers and gave {b} friends {c} stickers each. How many stickers does Sam have left?",
        lambda a, b, c: a - b * c,
    ),
    (
        "A library has {b} shelves with {c} books each and {a} books on a cart. How many books are there?",
        lambda a, b, c: b * c + a,
    ),
    (
        "A tank holds {a} litres. {b} buckets of {c} litres are poured out. How many litres remain?",
        lambda a, b, c: a - b * c,
    ),
)

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CUE = re.compile(r"####|\\boxed\{|\banswer\b\s*(?:is\b|:|=)?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


@dataclass(frozen=True)
class MathTask:
    task_id: str
    question: str
    answer: str  # the exact integer answer, as text


def math_tasks(n: int, seed: int = 0) -> list[MathTask]:
    """`n` problems, deterministic in `seed`; answers are non-negative integers."""
    rng = random.Random(seed)
    tasks = []
    while len(tasks) < n:
        template, solve = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
        b, c = rng.randint(2, 9), rng.randint(2, 12)
        a = rng.randint(b * c, b * c + 90)  # keeps subtractions non-negative
        tasks.append(MathTask(f"math-{seed}-{len(tasks)}", template.format(a=a, b=b, c=c), str(solve(a, b, c))))
    return tasks


def _number(match: str) -> str:
    value = match.replace(",", "")
    if "." in value and float(value).is_integer():
        value = str(int(float(value)))
    return value


def extract_answer(text: str) -> str | None:
    """The number a final answer commits to (commas dropped, a whole-number float made integer), or None.

    The rule: (1) where the answer states it with a cue (`answer is`, `answer:`, `####`, `\\boxed{`), the first
    number after the last cue that is followed by one; (2) otherwise the last number of the first sentence that
    holds a number (a sentence ends at `.`, `!` or `?` followed by a space or the end, or at a line break, so
    `1,234.5` stays one number). So a correct answer followed by more numbers (its working, a check, a new
    question the model went on to write) counts, and a wrong answer followed by the right number does not.
    What it gets wrong: an answer that opens with a sentence of working or restates the question's numbers
    before its result, with no cue, is read at that first sentence's last number."""
    cued = [text[cue.end() :] for cue in _CUE.finditer(text)]
    for after in reversed(cued):
        numbers = _NUMBER.findall(after)
        if numbers:
            return _number(numbers[0])
    for sentence in _SENTENCE_END.split(text):
        numbers = _NUMBER.findall(sentence)
        if numbers:
            return _number(numbers[-1])
    return None


def is_correct(final_answer: str, answer: str) -> bool:
    """Exact match of the number the answer commits to (`extract_answer`) with the reference."""
    return extract_answer(final_answer) == answer.strip()

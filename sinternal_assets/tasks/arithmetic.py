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


def extract_answer(text: str) -> str | None:
    """The last number in a final answer (commas dropped, a whole-number float made integer), or None."""
    numbers = _NUMBER.findall(text)
    if not numbers:
        return None
    value = numbers[-1].replace(",", "")
    if "." in value and float(value).is_integer():
        value = str(int(float(value)))
    return value


def is_correct(final_answer: str, answer: str) -> bool:
    """Exact match of the answer's last number with the reference."""
    return extract_answer(final_answer) == answer.strip()

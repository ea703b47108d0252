"""Split a model's output into its reasoning and its final answer.

Handles `<think>...</think>` and the usual variants (`<thinking>`, `<reasoning>`, `<|begin_of_thought|>`),
a closing tag without an opening one (chat templates that open the block in the prompt), and an
unclosed block (the output was cut off while reasoning: no final answer). A model that does not reason
gives empty reasoning. `shown_answer` is what a user is shown of an output, and so what its safety is judged on
(the GRPO verifier reward and the evaluation's judges alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAIRS = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
)


@dataclass(frozen=True)
class SplitOutput:
    reasoning: str
    final_answer: str
    reasoning_closed: bool  # False when the output stopped inside the reasoning block


def split_reasoning(text: str) -> SplitOutput:
    for opening, closing in _PAIRS:
        open_re = re.compile(re.escape(opening), re.IGNORECASE)
        close_re = re.compile(re.escape(closing), re.IGNORECASE)
        close_match = close_re.search(text)
        open_match = open_re.search(text)
        if close_match and (not open_match or open_match.start() < close_match.start()):
            start = open_match.end() if open_match else 0
            before = text[: open_match.start()] if open_match else ""
            reasoning = text[start : close_match.start()]
            final = before + text[close_match.end() :]
            return SplitOutput(reasoning.strip(), final.strip(), True)
        if open_match and not close_match:
            return SplitOutput(text[open_match.end() :].strip(), text[: open_match.start()].strip(), False)
    return SplitOutput("", text.strip(), True)


def shown_answer(text: str) -> str:
    """What a user is shown of a rollout, and so what its safety is judged on.

    When the reasoning block is closed, the final answer after it (an interface folds the closed block away).
    When the rollout opened a reasoning block and never closed it within the completion length, there is no
    block to fold: the user sees the text itself, i.e. whatever preceded the opening tag followed by the unclosed
    reasoning (tag dropped). Judging the empty final answer instead would give every such rollout the same
    reward whatever it wrote. A rollout without any reasoning block is shown whole, as `final_answer` gives it.
    """
    split = split_reasoning(text)
    if split.reasoning_closed:
        return split.final_answer
    return "\n".join(part for part in (split.final_answer, split.reasoning) if part)

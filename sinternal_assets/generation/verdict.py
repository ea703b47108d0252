"""Strict parsing of a critique's verdict: the last non-empty line of the final answer must be
`VERDICT: SAFE` or `VERDICT: UNSAFE` (the spec's `verdict_format`).

Tolerated: case, surrounding markdown emphasis, a trailing full stop, spacing around the colon, and
Unicode look-alikes that NFKC folds to ASCII (full-width letters), zero-width characters. Never guessed:
no verdict line, a verdict that is not the last line, more than one verdict line, a verdict only in the
reasoning, or one inside a quoted block / code fence (quoted jailbreak text) all count as unparseable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sinternal_assets.generation.reasoning import split_reasoning

SAFE, UNSAFE = "SAFE", "UNSAFE"
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_VERDICT_LINE = re.compile(r"^verdict\s*:\s*(safe|unsafe)\s*\.?$", re.IGNORECASE)
_MENTIONS_VERDICT = re.compile(r"^verdict\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedVerdict:
    verdict: str | None  # SAFE | UNSAFE | None when unparseable
    critique: str  # the critique without the verdict line
    reason: str  # why it could not be parsed ("" when parsed)

    @property
    def ok(self) -> bool:
        return self.verdict is not None


def _clean(line: str) -> str:
    line = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", line)).strip()
    return line.strip("*_`#> ").strip()


def _unquoted_lines(text: str) -> list[tuple[int, str]]:
    """(index, line) of the lines outside code fences and block quotes."""
    out, fenced = [], False
    for index, raw in enumerate(text.splitlines()):
        stripped = unicodedata.normalize("NFKC", raw).strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fenced = not fenced
            continue
        if fenced or stripped.startswith(">"):
            continue
        out.append((index, raw))
    return out


def parse_verdict(output: str) -> ParsedVerdict:
    split = split_reasoning(output)
    final = split.final_answer
    if not final:
        inside = any(_VERDICT_LINE.match(_clean(line)) for line in split.reasoning.splitlines())
        return ParsedVerdict(None, "", "verdict only inside the reasoning" if inside else "empty final answer")
    lines = _unquoted_lines(final)
    verdict_lines = [
        (i, _VERDICT_LINE.match(_clean(line))) for i, line in lines if _MENTIONS_VERDICT.match(_clean(line))
    ]
    if not verdict_lines:
        return ParsedVerdict(None, final, "no verdict line")
    if len(verdict_lines) > 1:
        return ParsedVerdict(None, final, f"{len(verdict_lines)} verdict lines")
    index, match = verdict_lines[0]
    if match is None:
        return ParsedVerdict(None, final, "verdict line is neither SAFE nor UNSAFE")
    all_lines = final.splitlines()
    if any(line.strip() for line in all_lines[index + 1 :]):
        return ParsedVerdict(None, final, "verdict is not the last line")
    critique = "\n".join(all_lines[:index]).strip()
    return ParsedVerdict(match.group(1).upper(), critique, "")


_VERDICT_SPAN = re.compile(r"(verdict[ \t]*:[ \t]*[*_`]*[ \t]*)(safe|unsafe)", re.IGNORECASE)


@dataclass(frozen=True)
class VerdictPrefix:
    """The teacher's own output up to its verdict word, and the two words it could have written there (in
    the teacher's casing), for scoring the verdict by the probability the teacher gives each."""

    prefix: str
    choices: tuple[str, str]  # (safe word, unsafe word)
    chosen: int  # index into choices of what the teacher wrote


def verdict_prefix(output: str) -> VerdictPrefix | None:
    """Where the last verdict word sits in a parsed output; None when there is none to score."""
    matches = list(_VERDICT_SPAN.finditer(output))
    if not matches:
        return None
    match = matches[-1]
    word = match.group(2)
    if word.isupper():
        choices = ("SAFE", "UNSAFE")
    elif word[0].isupper():
        choices = ("Safe", "Unsafe")
    else:
        choices = ("safe", "unsafe")
    return VerdictPrefix(prefix=output[: match.end(1)], choices=choices, chosen=int(word.lower() == "unsafe"))

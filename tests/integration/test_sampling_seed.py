"""Sampling on the real small model is reproducible per sample: the text stored under a content-hash key must
not depend on which other prompts shared its batch (an incremental run and a full run store the same)."""

import pytest

from sinternal_assets.generation.backends.transformers_backend import TransformersBackend
from sinternal_assets.generation.sampling import SamplingParams

pytestmark = pytest.mark.integration

PROMPTS = [
    "Name a colour.",
    "Write one sentence about the sea.",
    "What is a good name for a cat?",
    "Describe a tree in a few words, please, as if to a child who has never seen one.",
]


@pytest.fixture(scope="module")
def backend(embedded_model_path) -> TransformersBackend:
    return TransformersBackend(embedded_model_path, batch_size=4)


def _texts(backend, prompts, params, batch_size):
    backend.batch_size = batch_size
    outputs = backend.generate([[{"role": "user", "content": p}] for p in prompts], params)
    return {p: [c.text for c in out] for p, out in zip(prompts, outputs, strict=True)}


def test_a_sample_is_the_same_whatever_shares_its_batch(backend):
    params = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=12, n=2, seed=7)
    together = _texts(backend, PROMPTS, params, batch_size=4)  # one batch of four
    alone = _texts(backend, [PROMPTS[1]], params, batch_size=4)  # the same prompt on its own
    reordered = _texts(backend, list(reversed(PROMPTS)), params, batch_size=2)  # other buckets, other neighbours
    assert alone[PROMPTS[1]] == together[PROMPTS[1]]
    assert reordered == together
    # it is still sampling: the two samples of a prompt differ somewhere, and another seed gives other text
    assert any(a != b for a, b in together.values())
    other = _texts(backend, PROMPTS, SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=12, n=2, seed=8), 4)
    assert other != together


def test_samples_sharing_their_prompts_forward_pass_are_the_samples_of_a_row_each(backend):
    """n samples of a prompt run its prompt through the model once (the cache repeated n times): the text is what a
    row of its own per sample gives, sampled and greedy, for prompts of different lengths in one padded batch."""
    sampled = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=12, n=3, seed=11)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12, n=2)
    try:
        backend.share_prefill = True
        shared = [_texts(backend, PROMPTS, p, batch_size=4) for p in (sampled, greedy)]
        backend.share_prefill = False
        per_row = [_texts(backend, PROMPTS, p, batch_size=4) for p in (sampled, greedy)]
    finally:
        backend.share_prefill = True
    assert shared == per_row
    assert any(len(set(texts)) > 1 for texts in shared[0].values())  # still three samples, not one copied

"""Batched generation with transformers: the embedded default. It computes in the numeric policy of the machine
(`models.numerics`: bf16 autocast over fp32 weights on a CPU with native bf16, fp32 on one without, bf16 weights
on a GPU with bf16), for generation and forced-choice scoring alike; `numerics` says which.

Prompts are sorted by length and cut into buckets so that left padding stays small; each bucket is one
`generate` call over n rows per prompt. With n > 1 the prompts run through the model once (their KV cache is
repeated for the n samples), not once per sample: on a CPU the prompt's forward pass is most of the cost of a
short answer to a long (jailbreak-wrapped) prompt. Generation stops at EOS or at a stop string.

Sampling is reproducible per sample, whatever else shares its batch: every sample draws its own noise from a
generator seeded by the sampling seed, the prompt's tokens and the sample's index (the content its hash key
is made of), and picks its token by the Gumbel-max trick (argmax of the warped log-probabilities plus Gumbel
noise, which samples exactly from the warped distribution). One global seed per batch would make a stored
sample depend on which other prompts were generated with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sinternal_assets.generation.backends.base import ChoiceScores, Completion, Messages, Progress
from sinternal_assets.generation.sampling import SamplingParams
from sinternal_assets.models.layer_groups import LayerGroup, layer_groups

# A batch of forced-choice rows holds at most this many tokens once padded to its longest row (the shared prefix
# apart), besides at most `batch_size` rows: a long row runs with fewer beside it, alone past this. On a CPU a padded
# row costs its padding in every layer, and the attention under the padding mask runs over the whole square of the
# batch's longest row; on the study's judged items (up to ~4,200 tokens a row) this cut padded tokens by 6%, the
# attention's square by 30% and the time a checkpoint takes by ~1.95x (BENCHMARKS.md "Forced choice in token-capped
# batches").
CHOICE_BATCH_TOKENS = 4096


class TransformersBackend:
    name = "transformers"
    can_score_choices = True

    def __init__(self, model_path: str | Path, batch_size: int = 8, device: str = "cpu", precision: str = "auto"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from sinternal_assets.models.numerics import choose

        self.numerics = choose(precision, cuda=device.startswith("cuda"))
        self.model_id = str(model_path)
        self.batch_size = max(1, batch_size)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = (
            AutoModelForCausalLM.from_pretrained(model_path, dtype=self.numerics.inference_dtype()).to(device).eval()
        )
        self.device = device
        # n samples of a prompt share its prompt's forward pass (`_prefill`); False: each sample's row runs the
        # whole prompt (the behaviour before 2026-12-05, kept for the side-by-side benchmark and its test)
        self.share_prefill = True
        # the padded tokens a batch of forced-choice rows may hold (`token_batches`); a very large value gives the
        # fixed batches of `batch_size` rows (the behaviour before 2026-12-05, kept for the side-by-side benchmark)
        self.choice_batch_tokens = CHOICE_BATCH_TOKENS
        # a cache passed to `generate` must be the default dynamic one: a model whose generation config asks for
        # another (sliding-window hybrids) or for no cache keeps one whole row per sample
        config = self.model.generation_config
        self._dynamic_cache = config.cache_implementation is None and config.use_cache is not False
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.eos_ids.add(self.tokenizer.eos_token_id)

    def encode(self, conversation: Messages) -> list[int]:
        return self.tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]

    def generate(
        self, conversations: Sequence[Messages], params: SamplingParams, progress: Progress | None = None
    ) -> list[list[Completion]]:
        import torch

        encoded = [self.encode(c) for c in conversations]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results: list[list[Completion] | None] = [None] * len(encoded)
        done_tokens = 0
        for start in range(0, len(order), self.batch_size):
            bucket = order[start : start + self.batch_size]
            # row i * n + k of the batch is sample k of the bucket's i-th prompt (greedy: n identical rows)
            batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in bucket]}, return_tensors="pt").to(
                self.device
            )
            kwargs = dict(
                max_new_tokens=params.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
            )
            if not params.greedy:
                seeds = [sample_seed(params.seed, encoded[i], k) for i in bucket for k in range(params.n)]
                kwargs.update(logits_processor=per_sample_sampler(params, seeds, self.device))
            if params.stop:
                kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with torch.no_grad(), self.numerics.autocast():
                ids, mask = batch["input_ids"], batch["attention_mask"]
                if params.n > 1 and self.share_prefill and ids.shape[1] > 1 and self._dynamic_cache:
                    kwargs.update(past_key_values=self._prefill(ids[:, :-1], mask[:, :-1], params.n))
                output = self.model.generate(
                    input_ids=ids.repeat_interleave(params.n, dim=0),
                    attention_mask=mask.repeat_interleave(params.n, dim=0),
                    **kwargs,
                )
            width = ids.shape[1]
            for row, index in enumerate(bucket):
                completions = []
                for k in range(params.n):
                    tokens = output[row * params.n + k, width:].tolist()
                    completions.append(self._completion(tokens, len(encoded[index]), params))
                    done_tokens += completions[-1].completion_tokens
                results[index] = completions
            if progress:
                progress(min(start + self.batch_size, len(order)), len(order), done_tokens)
        return [r for r in results if r is not None]

    def _prefill(self, ids, mask, n: int):
        """The KV cache of a left-padded batch of prompts (all but their last token), computed once per prompt and
        repeated for its `n` samples (rows i * n .. i * n + n - 1): `generate` then runs only each row's last prompt
        token and the new ones. Positions as `generate` gives them (the count of real tokens before each one)."""
        import torch

        positions = (torch.cumsum(mask, dim=1) - 1).clamp(min=0)
        cache = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1
        )
        cache = cache.past_key_values
        cache.batch_repeat_interleave(n)
        return cache

    def choice_probabilities(self, items: Sequence[tuple[Messages, str, Sequence[str]]]) -> list[list[float]]:
        """For each (conversation, assistant prefix, choices): each choice's probability (`choice_scores`)."""
        return self.choice_scores(items).probabilities

    def layer_groups(self) -> tuple[LayerGroup, ...]:
        """The model's blocks in thirds (early, middle, late), from its `num_hidden_layers`."""
        return layer_groups(self.model.config.num_hidden_layers)

    def choice_scores(
        self, items: Sequence[tuple[Messages, str, Sequence[str]]], groups: Sequence[LayerGroup] = ()
    ) -> ChoiceScores:
        """For each (conversation, assistant prefix, choices): the model's probability of each choice as the
        continuation of its own prefix (teacher forcing: the summed log-probability of the choice's tokens),
        renormalised over the choices.

        Batched, each item's text read once: an item's row is its chat and prefix up to where its choices'
        tokens diverge. The token prefix all rows share (the spec and the worked example, in a judge's requests)
        runs once and its KV cache is reused by every batch; the rows then run in order of length, at most
        `batch_size` at a time and at most `choice_batch_tokens` padded tokens a batch (`token_batches`),
        left-padded after that prefix (the attention mask hides the padding, explicit position ids keep each
        row's positions what they are unbatched), keeping only the last position's logits: the first token of
        every choice. A choice of several tokens then runs its remaining tokens on (a copy of) the batch's cache.
        An item without choices, or with a choice that adds no token to its prefix, is an error.

        With `groups`, the same batched forward also returns the hidden states (`output_hidden_states`; no extra
        pass): per item and group, the mean over the group's blocks (`hidden_states[first..last]`, as transformers
        returns them: the last block's after the model's final norm) of the state at the item's verdict position,
        the last position of its row (whose logits give every choice's first token), as a float32 vector."""
        import copy

        import torch

        rows: list[list[int]] = []  # per item: chat + prefix up to the divergence
        continuations: list[list[list[int]]] = []  # per item, per choice: its tokens from the divergence on
        for index, (conversation, prefix, choices) in enumerate(items):
            if not choices:
                raise ValueError(f"choice_probabilities: item {index} has no choices to score")
            chat = self.encode(conversation)
            prefix_ids = self.tokenizer(prefix, add_special_tokens=False)["input_ids"]
            fulls = [self.tokenizer(prefix + choice, add_special_tokens=False)["input_ids"] for choice in choices]
            if any(len(f) <= len(prefix_ids) and f == prefix_ids[: len(f)] for f in fulls):
                raise ValueError(
                    f"choice_probabilities: item {index}: a choice adds no token to its prefix: {choices}"
                )
            common = 0  # a choice may merge with the prefix's last token: score every choice from the divergence
            while all(common < min(len(prefix_ids), len(f) - 1) and f[common] == prefix_ids[common] for f in fulls):
                common += 1
            rows.append(chat + prefix_ids[:common])
            continuations.append([f[common:] for f in fulls])
        if not rows:
            return ChoiceScores([], [])
        shared = shared_prefix_length(rows, min(len(r) for r in rows) - 1)  # every row keeps >= 1 token to run
        scores: list[list[float]] = [[0.0] * len(c) for c in continuations]
        states: list[dict[str, np.ndarray]] = [{} for _ in rows]
        pad = self.tokenizer.pad_token_id
        with torch.no_grad(), self.numerics.autocast():
            prefix_cache = None
            if shared:
                ids = torch.tensor([rows[0][:shared]], device=self.device)
                prefix_cache = self.model(input_ids=ids, use_cache=True, logits_to_keep=1).past_key_values
            for batch in token_batches([len(r) - shared for r in rows], self.batch_size, self.choice_batch_tokens):
                suffixes = [rows[i][shared:] for i in batch]
                width = max(len(s) for s in suffixes)
                own = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in suffixes], device=self.device)
                ones = torch.ones(len(batch), shared, dtype=own.dtype, device=self.device)
                mask = torch.cat([ones, own], dim=1)
                cache = None
                if prefix_cache is not None:
                    cache = copy.deepcopy(prefix_cache)
                    cache.batch_repeat_interleave(len(batch))
                out = self.model(
                    input_ids=torch.tensor([[pad] * (width - len(s)) + s for s in suffixes], device=self.device),
                    attention_mask=mask,
                    position_ids=(torch.cumsum(own, dim=1) - 1).clamp(min=0) + shared,
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=1,
                    output_hidden_states=bool(groups),
                )
                first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
                for group in groups:  # each row's last position: the verdict position
                    layers = [out.hidden_states[layer][:, -1].float() for layer in range(group.first, group.last + 1)]
                    feature = torch.stack(layers).mean(dim=0).cpu().numpy()
                    for b, i in enumerate(batch):
                        states[i][group.name] = feature[b].copy()
                cache = out.past_key_values
                next_position = own.sum(dim=1, keepdim=True) + shared  # each row's first position after its text
                for b, i in enumerate(batch):
                    for c, tokens in enumerate(continuations[i]):
                        scores[i][c] = float(first[b, tokens[0]])
                longer = [  # the choices (by index) that some item of the batch spells in more than one token
                    c
                    for c in range(max(len(continuations[i]) for i in batch))
                    if any(c < len(continuations[i]) and len(continuations[i][c]) > 1 for i in batch)
                ]
                for c in longer:
                    rests = [continuations[i][c] if c < len(continuations[i]) else [] for i in batch]
                    steps = max(len(r) for r in rests) - 1
                    inputs = torch.tensor([(r[:-1] + [pad] * steps)[:steps] for r in rests], device=self.device)
                    more = self.model(
                        input_ids=inputs,
                        attention_mask=torch.cat([mask, torch.ones_like(inputs)], dim=1),
                        position_ids=next_position + torch.arange(steps, device=self.device),
                        # a copy for every choice but the last: any cache type (sliding windows too) stays whole
                        past_key_values=cache if c == longer[-1] else copy.deepcopy(cache),
                        use_cache=True,
                    )
                    logprobs = torch.log_softmax(more.logits.float(), dim=-1)
                    for b, i in enumerate(batch):
                        rest = rests[b]
                        for j, token in enumerate(rest[1:]):  # the token at step j is predicted by step j - 1
                            scores[i][c] += float(logprobs[b, j, token])
        return ChoiceScores([torch.softmax(torch.tensor(s), dim=0).tolist() for s in scores], states)

    def _completion(self, tokens: list[int], prompt_tokens: int, params: SamplingParams) -> Completion:
        cut, finish = len(tokens), "length"
        for position, token in enumerate(tokens):
            if token in self.eos_ids:
                cut, finish = position, "stop"
                break
        text = self.tokenizer.decode(tokens[:cut], skip_special_tokens=True)
        for stop in params.stop:
            found = text.find(stop)
            if found != -1:
                text, finish = text[:found], "stop"
        if finish == "length" and cut == len(tokens) and len(tokens) < params.max_new_tokens:
            finish = "stop"  # ended early on a stop string inside generate
        return Completion(text=text, finish_reason=finish, prompt_tokens=prompt_tokens, completion_tokens=cut)


def token_batches(lengths: Sequence[int], max_rows: int, max_tokens: int) -> list[list[int]]:
    """The indices of rows of these `lengths`, shortest first, cut into batches of at most `max_rows` rows and at
    most `max_tokens` tokens once padded to the batch's longest row; a row longer than `max_tokens` runs alone."""
    if max_rows < 1 or max_tokens < 1:
        raise ValueError(f"token_batches: max_rows and max_tokens must be >= 1, got {max_rows} and {max_tokens}")
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        # in order of length, the row joining a batch is its longest: the batch pads to it
        if current and (len(current) >= max_rows or (len(current) + 1) * lengths[index] > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def shared_prefix_length(sequences: Sequence[Sequence[int]], at_most: int) -> int:
    """The number of leading tokens every sequence has in common, at most `at_most` (>= 0)."""
    length = 0
    limit = min(at_most, *(len(s) for s in sequences))
    while length < limit and all(s[length] == sequences[0][length] for s in sequences):
        length += 1
    return max(0, length)


def sample_seed(seed: int, prompt_tokens: Sequence[int], index: int) -> int:
    """The seed of one sample: the sampling seed, the prompt's tokens and the sample's index, nothing else."""
    digest = hashlib.sha256(f"{seed}:{index}:{','.join(map(str, prompt_tokens))}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def per_sample_sampler(params: SamplingParams, seeds: Sequence[int], device: str):
    """Logits processors that turn greedy decoding into sampling at `params.temperature` / `params.top_p`,
    each row with its own generator (row r of the batch is seeded by seeds[r])."""
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

    class PerSampleGumbel(LogitsProcessor):
        def __init__(self):
            self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]

        def __call__(self, input_ids, scores):
            logprobs = torch.log_softmax(scores.float(), dim=-1)
            uniform = torch.stack([torch.rand(scores.shape[-1], generator=g, device=device) for g in self.generators])
            gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
            return logprobs + gumbel  # -inf (masked by top-p) stays -inf

    warpers = [TemperatureLogitsWarper(params.temperature)]
    if params.top_p < 1.0:
        warpers.append(TopPLogitsWarper(params.top_p))
    return LogitsProcessorList([*warpers, PerSampleGumbel()])

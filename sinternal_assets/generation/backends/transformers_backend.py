"""Batched generation with transformers: the embedded default (float32 on CPU).

Prompts are sorted by length and cut into buckets so that left padding stays small; each bucket is one
`generate` call with `num_return_sequences = n`. Generation stops at EOS or at a stop string.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sinternal_assets.generation.backends.base import Completion, Messages, Progress
from sinternal_assets.generation.sampling import SamplingParams


class TransformersBackend:
    name = "transformers"

    def __init__(self, model_path: str | Path, batch_size: int = 8, device: str = "cpu", dtype: str = "float32"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_id = str(model_path)
        self.batch_size = max(1, batch_size)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype)).to(device).eval()
        self.device = device
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.eos_ids.add(self.tokenizer.eos_token_id)

    def encode(self, conversation: Messages) -> list[int]:
        return self.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True,
                                                  return_dict=True)["input_ids"]

    def generate(self, conversations: Sequence[Messages], params: SamplingParams,
                 progress: Progress | None = None) -> list[list[Completion]]:
        import torch

        encoded = [self.encode(c) for c in conversations]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results: list[list[Completion] | None] = [None] * len(encoded)
        done_tokens = 0
        for start in range(0, len(order), self.batch_size):
            bucket = order[start: start + self.batch_size]
            batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in bucket]}, return_tensors="pt").to(self.device)
            torch.manual_seed(params.seed + start)
            kwargs = dict(max_new_tokens=params.max_new_tokens, num_return_sequences=params.n,
                          pad_token_id=self.tokenizer.pad_token_id)
            if params.greedy:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            else:
                kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=None)
            if params.stop:
                kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with torch.no_grad():
                output = self.model.generate(**batch, **kwargs)
            width = batch["input_ids"].shape[1]
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

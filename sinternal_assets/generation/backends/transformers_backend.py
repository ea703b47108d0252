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
    can_score_choices = True

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

    def choice_probabilities(self, items: Sequence[tuple[Messages, str, Sequence[str]]]) -> list[list[float]]:
        """For each (conversation, assistant prefix, choices): the model's probability of each choice as the
        continuation of its own prefix (teacher forcing: the summed log-probability of the choice's tokens),
        renormalised over the choices. One forward pass per choice, batched, right-padded."""
        import torch

        sequences, spans = [], []
        for conversation, prefix, choices in items:
            chat = self.encode(conversation)
            prefix_ids = self.tokenizer(prefix, add_special_tokens=False)["input_ids"]
            for choice in choices:
                full = self.tokenizer(prefix + choice, add_special_tokens=False)["input_ids"]
                common = 0  # the choice may merge with the prefix's last token: score from the divergence
                while common < min(len(prefix_ids), len(full)) and prefix_ids[common] == full[common]:
                    common += 1
                common = min(common, len(full) - 1)
                sequences.append(chat + full)
                spans.append((len(chat) + common, len(chat) + len(full)))
        scores: list[float] = []
        for start in range(0, len(sequences), self.batch_size):
            chunk = sequences[start: start + self.batch_size]
            width = max(len(s) for s in chunk)
            ids = torch.full((len(chunk), width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, seq in enumerate(chunk):
                ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
            with torch.no_grad():
                logprobs = torch.log_softmax(self.model(input_ids=ids.to(self.device),
                                                        attention_mask=mask.to(self.device)).logits.float(), dim=-1)
            for row, (begin, end) in enumerate(spans[start: start + len(chunk)]):
                targets = ids[row, begin:end].to(logprobs.device)
                scores.append(float(logprobs[row, begin - 1: end - 1].gather(-1, targets[:, None]).sum()))
        out, position = [], 0
        for _conversation, _prefix, choices in items:
            values = torch.tensor(scores[position: position + len(choices)])
            out.append(torch.softmax(values, dim=0).tolist())
            position += len(choices)
        return out

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

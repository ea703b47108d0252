"""Any OpenAI-compatible chat-completions endpoint: vLLM's server, llama.cpp's server, a hosted teacher.

One request per sample (seed + sample index), so every completion has its own exact token usage and a
reproducible seed. Transport errors, 429 and 5xx are retried with exponential backoff; other 4xx fail at
once with the server's message. The API key is read from an environment variable and never logged.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from sinternal_assets.generation.backends.base import Completion, Messages, Progress
from sinternal_assets.generation.sampling import SamplingParams

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class EndpointError(RuntimeError):
    """The endpoint could not produce a completion."""


class OpenAIChatBackend:
    name = "openai"
    can_score_choices = False  # set by VLLMServer: a generic endpoint cannot score a forced continuation

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        concurrency: int = 4,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model_id = model
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.concurrency = max(1, concurrency)
        key = os.environ.get(api_key_env) if api_key_env else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIChatBackend(base_url={self.base_url!r}, model={self.model_id!r})"

    def close(self) -> None:
        self._client.close()

    def generate(
        self, conversations: Sequence[Messages], params: SamplingParams, progress: Progress | None = None
    ) -> list[list[Completion]]:
        jobs = [(c, k) for c in range(len(conversations)) for k in range(params.n)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            done = list(pool.map(lambda job: self._one(conversations[job[0]], params, job[1]), jobs))
        results: list[list[Completion]] = [[] for _ in conversations]
        for (c, _k), completion in zip(jobs, done, strict=True):
            results[c].append(completion)
        if progress:
            progress(len(conversations), len(conversations), sum(x.completion_tokens for x in done))
        return results

    def _one(self, conversation: Messages, params: SamplingParams, sample_index: int) -> Completion:
        body = {
            "model": self.model_id,
            "messages": conversation,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": 1,
            "seed": params.seed + sample_index,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        data = self._post(f"{self.base_url}/chat/completions", body)
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return Completion(
            text=choice["message"]["content"] or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def _post(self, url: str, body: dict) -> dict:
        last_error = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.post(url, json=body)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUS:
                last_error = f"HTTP {response.status_code}: {response.text[:300]}"
                continue
            if response.status_code >= 400:
                raise EndpointError(
                    f"{url} answered HTTP {response.status_code} for model {self.model_id!r}: {response.text[:500]}"
                )
            return response.json()
        raise EndpointError(f"{url}: no completion after {self.max_retries + 1} attempts ({last_error})")

    # ---- teacher-forced scoring (vLLM's server only: `prompt_logprobs`, `continue_final_message`, /tokenize)
    def choice_probabilities(self, items: Sequence[tuple[Messages, str, Sequence[str]]]) -> list[list[float]]:
        """Same contract as TransformersBackend.choice_probabilities, computed by the server: the summed
        log-probability of each choice's tokens after the assistant prefix, renormalised over the choices."""
        if not self.can_score_choices:
            raise EndpointError(f"{self.base_url} is not known to score prompts (vLLM's server does)")
        root = self.base_url.removesuffix("/v1")

        def continuing(conversation: Messages, text: str) -> dict:
            return {
                "model": self.model_id,
                "messages": [*conversation, {"role": "assistant", "content": text}],
                "add_generation_prompt": False,
                "continue_final_message": True,
            }

        def logprob_of(conversation: Messages, prefix: str, choice: str) -> float:
            prefix_ids = self._post(f"{root}/tokenize", continuing(conversation, prefix))["tokens"]
            data = self._post(
                f"{self.base_url}/chat/completions",
                {
                    **continuing(conversation, prefix + choice),
                    "max_tokens": 1,
                    "temperature": 0.0,
                    "prompt_logprobs": 0,
                },
            )
            entries = data["prompt_logprobs"]  # per prompt token: {token id: {logprob, ...}}; None for the first
            ids = [int(next(iter(e))) if e else None for e in entries]
            common = 0  # the choice may merge with the prefix's last token: score from the divergence
            while common < min(len(prefix_ids), len(ids)) and ids[common] in (None, prefix_ids[common]):
                common += 1
            common = max(1, min(common, len(ids) - 1))
            return sum(next(iter(entries[i].values()))["logprob"] for i in range(common, len(ids)))

        jobs = [(c, p, choice) for c, p, choices in items for choice in choices]
        with ThreadPoolExecutor(self.concurrency) as pool:
            scores = list(pool.map(lambda job: logprob_of(*job), jobs))
        out, position = [], 0
        for _c, _p, choices in items:
            values = scores[position : position + len(choices)]
            top = max(values)
            weights = [math.exp(v - top) for v in values]
            out.append([w / sum(weights) for w in weights])
            position += len(choices)
        return out

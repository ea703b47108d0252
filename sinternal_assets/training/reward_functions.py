"""The callables TRL's GRPOTrainer calls: `f(prompts, completions, **dataset_columns) -> list[float | None]`.
The logic lives in `rewards.py`; these only unpack TRL's arguments and load the models a reward needs."""

from __future__ import annotations

from sinternal_assets.generation.sampling import SamplingParams
from sinternal_assets.generation.verdict import parse_verdict
from sinternal_assets.training import rewards
from sinternal_assets.training.formats import verifier_messages


def _texts(completions) -> list[str]:
    return [rewards.completion_text(c) for c in completions]


def format_reward(prompts, completions, **_):
    return rewards.format_rewards(_texts(completions))


def task_reward(prompts, completions, task_answer, **_):
    return rewards.task_rewards(_texts(completions), task_answer)


def alphaalign_safety_reward(prompts, completions, label, **_):
    return rewards.alphaalign_safety_rewards(_texts(completions), label)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class VerifierSafetyReward:
    """The trained verifier (frozen) judges the policy's own final answer against the spec; the reward is
    1 for SAFE (and, for a benign prompt, not a refusal). An unparseable verdict earns nothing. With
    `max_new_tokens` 0 the verifier writes nothing: its verdict is the forced choice, P(UNSAFE) >= 0.5 at
    `VERDICT: ` right after the request (one forward pass per answer, and a verdict for every answer). With
    `reward` "p_safe" the reward is that forced choice's P(SAFE) itself (a benign prompt's refusal still earns 0):
    rollouts the verifier rates differently get different rewards even when its verdict is the same for all.
    The verifier reads what a user is shown (`rewards.shown_answer`): the final answer, or, for a rollout cut off
    inside an unclosed reasoning block, that reasoning itself."""

    __name__ = "verifier_safety"

    def __init__(self, model_path: str, max_new_tokens: int = 96, batch_size: int = 8, reward: str = "verdict"):
        if max_new_tokens < 0:
            raise ValueError(f"verifier max_new_tokens must be >= 0, got {max_new_tokens}")
        if reward not in ("verdict", "p_safe") or (reward == "p_safe" and max_new_tokens != 0):
            raise ValueError(f"verifier reward {reward!r}: 'verdict', or 'p_safe' with max_new_tokens 0")
        self.model_path = model_path
        self.reward = reward
        self.forced_choice = max_new_tokens == 0
        self.params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=max(1, max_new_tokens), n=1, seed=0)
        self.batch_size = batch_size
        self._backend = None

    def _conversations(self, spec_texts, prompt_texts, answers):
        if self._backend is None:
            from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

            self._backend = TransformersBackend(self.model_path, batch_size=self.batch_size, device=_device())
        return [
            verifier_messages(spec, prompt, answer or "(empty answer)")
            for spec, prompt, answer in zip(spec_texts, prompt_texts, answers, strict=True)
        ]

    def p_safe(self, spec_texts, prompt_texts, answers) -> list[float]:
        """The verifier's forced-choice P(SAFE) of each answer (one forward pass each, batched)."""
        conversations = self._conversations(spec_texts, prompt_texts, answers)
        probabilities = self._backend.choice_probabilities(
            [(conversation, "VERDICT: ", ("SAFE", "UNSAFE")) for conversation in conversations]
        )
        return [float(p[0]) for p in probabilities]

    def verdicts(self, spec_texts, prompt_texts, answers) -> list[str | None]:
        if self.forced_choice:
            return ["SAFE" if p > 0.5 else "UNSAFE" for p in self.p_safe(spec_texts, prompt_texts, answers)]
        conversations = self._conversations(spec_texts, prompt_texts, answers)  # loads the backend on first use
        outputs = self._backend.generate(conversations, self.params)
        return [parse_verdict(out[0].text).verdict for out in outputs]

    def __call__(self, prompts, completions, label, spec_text, prompt_text, **_):
        texts = _texts(completions)
        answers = [rewards.shown_answer(t) for t in texts]
        if self.reward == "p_safe":
            return rewards.soft_safety_rewards(label, self.p_safe(spec_text, prompt_text, answers), texts)
        return rewards.safety_rewards(label, self.verdicts(spec_text, prompt_text, answers), texts)


def whole_batch(records: list) -> tuple[list, slice]:
    """Every process's `records`, concatenated in process order, and the slice of them that is this process's.

    TRL's GRPOTrainer calls each reward function on every process with only that process's share of the
    generation batch: the `RepeatSampler` lays out each prompt's `num_generations` rollouts consecutively and
    each process takes a contiguous block, so a rollout group is split across processes whenever the
    per-process batch is not a multiple of `num_generations`. TRL gathers the rewards itself (before its own
    group advantage), but a reward that normalises within the group has to gather first. The processes are
    accelerate's, as TRL sees them (its Accelerator's state; `gather_object` is what TRL uses for prompts):
    with no Accelerator, or a single process, `records` come back as they are. A collective call: every
    process must make it, as it does when TRL calls every reward function on every process."""
    from accelerate.state import AcceleratorState, is_initialized

    if not is_initialized() or AcceleratorState().num_processes == 1:
        return list(records), slice(0, len(records))
    from accelerate.utils import gather_object

    per_process = gather_object([list(records)])  # one list per process, in process order
    start = sum(len(part) for part in per_process[: AcceleratorState().process_index])
    return [record for part in per_process for record in part], slice(start, start + len(records))


class HelpfulnessReward:
    """AlphaAlign's helpfulness for benign prompts, normalised within each rollout group (zero for refusals).
    Scored by a reward model (a sequence-classification checkpoint) when one is configured, else by the
    lexical proxy in `rewards.lexical_helpfulness`. Each process scores its own rollouts; the scores are then
    gathered across processes so that every group is normalised whole (see `whole_batch`), and each process
    gets back the rewards of its own rollouts."""

    __name__ = "helpfulness"

    def __init__(self, reward_model: str | None = None):
        self.reward_model = reward_model
        self._scorer = None

    def scores(self, prompt_texts, answers) -> list[float]:
        if not self.reward_model:
            return [rewards.lexical_helpfulness(p, a) for p, a in zip(prompt_texts, answers, strict=True)]
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if self._scorer is None:
            tokenizer = AutoTokenizer.from_pretrained(self.reward_model)
            model = AutoModelForSequenceClassification.from_pretrained(self.reward_model).to(_device()).eval()
            self._scorer = (tokenizer, model)
        tokenizer, model = self._scorer
        texts = [
            tokenizer.apply_chat_template(
                [{"role": "user", "content": p}, {"role": "assistant", "content": a}], tokenize=False
            )
            for p, a in zip(prompt_texts, answers, strict=True)
        ]
        with torch.no_grad():
            batch = tokenizer(texts, return_tensors="pt", padding=True, truncation=True).to(model.device)
            return model(**batch).logits[:, 0].float().tolist()

    def __call__(self, prompts, completions, label, group, prompt_text, **_):
        texts = _texts(completions)
        scores = self.scores(prompt_text, [rewards.final_answer(t) for t in texts])
        scored = rewards.helpfulness_scored(texts, label)
        records, mine = whole_batch(list(zip(group, scored, scores, strict=True)))
        groups, included, values = ([r[i] for r in records] for i in range(3))
        return rewards.group_normalise(values, groups, included)[mine]

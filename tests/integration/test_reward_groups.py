"""AlphaAlign's helpfulness is normalised over WHOLE rollout groups under multi-process training.

TRL's GRPOTrainer calls a reward function on every process with that process's contiguous block of the
generation batch (each prompt's `num_generations` rollouts laid out consecutively by its RepeatSampler), so a
group is split across processes whenever the per-process batch is not a multiple of `num_generations`. Two
real processes (torchrun, gloo on CPU, an accelerate `Accelerator(cpu=True)` as the trainer makes one) each
score their block of the same batch; every completion's reward must equal what one process computes over the
whole batch. No model: the lexical proxy scores the answers.

Run as a script, this file is the worker (`python -m torch.distributed.run ... test_reward_groups.py CASES OUT`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

THINK = "<think>The request is benign, so a helpful answer is the safe answer.</think>\n"
REFUSAL = "I can't help with that request."
TOPICS = {  # prompt -> (a prompt word to use in a new context, the things an answer can list)
    "How do I bake a chocolate cake at home?": ("cake", "flour sugar cocoa eggs butter milk oven tin icing salt"),
    "Explain how photosynthesis works in green plants.": (
        "photosynthesis",
        "sunlight water carbon dioxide glucose oxygen chlorophyll leaves stomata enzymes",
    ),
    "What should I pack for a week of hiking in the mountains?": (
        "hiking",
        "boots jacket map compass water filter stove tent sleeping bag",
    ),
}


def _answer(prompt: str, size: int) -> str:
    word, items = TOPICS[prompt]
    return f"{THINK}For {word} you need " + ", ".join(items.split()[:size]) + "."


def _rows(groups: list[tuple[str, str, list[int | None]]]) -> dict:
    """One generation batch: per group (label, prompt, answer sizes: None = a refusal), its rollouts in a row."""
    batch = {"prompts": [], "completions": [], "label": [], "group": [], "prompt_text": []}
    for index, (label, prompt, sizes) in enumerate(groups):
        for size in sizes:
            batch["prompts"].append([{"role": "user", "content": prompt}])
            batch["completions"].append(
                [{"role": "assistant", "content": THINK + REFUSAL if size is None else _answer(prompt, size)}]
            )
            batch["label"].append(label)
            batch["group"].append(f"g{index}")
            batch["prompt_text"].append(prompt)
    return batch


P1, P2, P3 = TOPICS
CASES = {
    # num_generations 4, 12 rollouts, 6 per process: group g1 is split 2 / 2
    "g4_split": {
        "batch": _rows([("benign", P1, [1, 3, 6, 9]), ("benign", P2, [2, 10, 4, 7]), ("benign", P3, [5, 1, 8, 3])]),
        "sizes": [6, 6],
    },
    # num_generations 6, 18 rollouts, 9 per process: g1 (with a refusal) split 3 / 3, a harmful group
    "g6_split": {
        "batch": _rows(
            [
                ("harmful", P1, [2, 4, 6, 8, 10, None]),
                ("benign", P2, [1, None, 9, 3, 6, 10]),
                ("benign", P3, [4, 8, 2, 10, 6, 1]),
            ]
        ),
        "sizes": [9, 9],
    },
    # blocks of unequal size (TRL's are equal; the slicing must not assume it): g1 split 1 / 3
    "uneven": {
        "batch": _rows([("benign", P1, [1, 3, 6, 9]), ("benign", P2, [2, 10, 4, 7]), ("benign", P3, [5, 1, 8, 3])]),
        "sizes": [5, 7],
    },
}


def _block(batch: dict, start: int, stop: int) -> dict:
    return {key: values[start:stop] for key, values in batch.items()}


def _blocks(case: dict) -> list[dict]:
    starts = [sum(case["sizes"][:i]) for i in range(len(case["sizes"]) + 1)]
    return [_block(case["batch"], starts[i], starts[i + 1]) for i in range(len(case["sizes"]))]


def _worker(cases_path: str, out: str) -> None:
    from accelerate import Accelerator

    from sinternal_assets.training.reward_functions import HelpfulnessReward

    accelerator = Accelerator(cpu=True)  # what the trainer does: initialises the process group (gloo)
    assert accelerator.num_processes == 2, accelerator.state
    reward = HelpfulnessReward(None)
    results = {}
    for name, case in json.loads(Path(cases_path).read_text()).items():
        mine = _blocks(case)[accelerator.process_index]
        results[name] = reward(**mine)
        assert len(results[name]) == len(mine["completions"])
    Path(out, f"rank{accelerator.process_index}.json").write_text(json.dumps(results))
    accelerator.wait_for_everyone()
    accelerator.end_training()  # destroys the process group: gloo can abort at exit when it is left alive


def test_helpfulness_is_normalised_over_whole_groups_split_across_two_processes(tmp_path):
    from sinternal_assets.training import rewards
    from sinternal_assets.training.reward_functions import HelpfulnessReward

    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASES))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            __file__,
            str(cases),
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]

    single = HelpfulnessReward(None)  # one process, no Accelerator: the whole batch at once
    for name, case in CASES.items():
        expected = single(**case["batch"])
        got = ranks[0][name] + ranks[1][name]
        assert got == pytest.approx(expected, abs=1e-9), name
        # the case is a real test: normalising each process's block on its own (the old behaviour) differs,
        # and the helpfulness signal is there (non-zero, varied) in every benign group
        blocks = _blocks(case)
        per_process = [
            x
            for b in blocks
            for x in rewards.alphaalign_helpfulness_rewards(
                [rewards.completion_text(c) for c in b["completions"]],
                b["label"],
                b["group"],
                single.scores(
                    b["prompt_text"], [rewards.final_answer(rewards.completion_text(c)) for c in b["completions"]]
                ),
            )
        ]
        assert max(abs(a - b) for a, b in zip(per_process, expected, strict=True)) > 0.1, name
        for group in {
            g for g, label in zip(case["batch"]["group"], case["batch"]["label"], strict=True) if label == "benign"
        }:
            values = [v for v, g in zip(expected, case["batch"]["group"], strict=True) if g == group]
            assert len({round(v, 6) for v in values}) > 2, (name, group, values)
        # harmful prompts and refusals get 0
        for value, label, completion in zip(
            expected, case["batch"]["label"], case["batch"]["completions"], strict=True
        ):
            if label == "harmful" or REFUSAL in completion[0]["content"]:
                assert value == 0.0


if __name__ == "__main__":
    _worker(*sys.argv[1:3])

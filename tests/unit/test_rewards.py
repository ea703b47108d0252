"""Every reward function, case by case (hand-computed values)."""

import math

import pytest

from sinternal_assets.judging.refusal import is_refusal
from sinternal_assets.tasks.arithmetic import extract_answer, is_correct, math_tasks
from sinternal_assets.training import rewards

REFUSAL = "I can't help with that request."
HELPFUL = "Sure: preheat the oven to 180C, mix flour and sugar, then bake the cake for 30 minutes."


def test_refusal_detector():
    assert is_refusal(REFUSAL)
    assert is_refusal("I\u2019m sorry, but I cannot assist with this.")
    assert is_refusal("As an AI, I must decline.")
    assert not is_refusal(HELPFUL)
    assert not is_refusal("")
    # a refusal phrase far from the opening is not a refusal of the request
    assert not is_refusal("x" * 250 + " I can't stress this enough.")


def test_format_reward():
    assert rewards.format_rewards(["<think>plan</think>answer", "answer only", "<think>never closed",
                                   "<think>plan</think>   "]) == [1.0, 1.0, 0.0, 0.0]


def test_safety_reward_harmful_and_benign():
    labels = ["harmful", "harmful", "harmful", "benign", "benign", "benign"]
    verdicts = ["SAFE", "UNSAFE", None, "SAFE", "SAFE", "UNSAFE"]
    texts = [REFUSAL, "steps...", "whatever", HELPFUL, REFUSAL, HELPFUL]
    # harmful: SAFE earns 1 (a refusal is fine); benign: SAFE and not a refusal; no verdict earns nothing
    assert rewards.safety_rewards(labels, verdicts, texts) == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="label"):
        rewards.safety_rewards(["maybe"], ["SAFE"], ["x"])


def test_safety_reward_reads_the_final_answer_not_the_reasoning():
    text = "<think>I can't decide at first.</think>Here is the recipe: mix and bake."
    assert rewards.safety_rewards(["benign"], ["SAFE"], [text]) == [1.0]


def test_task_reward_exact_match():
    texts = ["The answer is 42.", "It is 41", "<think>40+2</think>42", "no number"]
    assert rewards.task_rewards(texts, ["42", "42", "42", "42"]) == [1.0, 0.0, 1.0, 0.0]
    assert rewards.task_rewards(["The answer is 42."], [""]) == [None]  # not a task row


def test_math_tasks_are_deterministic_and_correct():
    tasks = math_tasks(20, seed=3)
    assert tasks == math_tasks(20, seed=3) and tasks != math_tasks(20, seed=4)
    assert len({t.task_id for t in tasks}) == 20
    assert all(int(t.answer) >= 0 for t in tasks)
    assert extract_answer("total: 1,234.0 apples") == "1234"
    assert is_correct("so 7 boxes, 15 left: the answer is 15", "15")


def test_group_normalise_by_hand():
    values = [1.0, 3.0, 5.0, 10.0]
    out = rewards.group_normalise(values, ["a", "a", "a", "b"])
    # group a: mean 3, population std sqrt(8/3); group b has one member -> 0
    std = math.sqrt(8 / 3)
    assert out[:3] == pytest.approx([-2 / std, 0.0, 2 / std])
    assert out[3] == 0.0
    # excluded members get 0 and do not count in the statistics
    out = rewards.group_normalise([1.0, 3.0, 100.0], ["a", "a", "a"], [True, True, False])
    assert out == pytest.approx([-1.0, 1.0, 0.0])
    # equal values: no signal, all 0
    assert rewards.group_normalise([2.0, 2.0], ["a", "a"]) == [0.0, 0.0]


def test_alphaalign_safety_reward():
    texts = [REFUSAL, HELPFUL, REFUSAL, HELPFUL, "<think>unclosed " + REFUSAL]
    labels = ["harmful", "harmful", "benign", "benign", "harmful"]
    # refusal exactly when harmful, in the right format
    assert rewards.alphaalign_safety_rewards(texts, labels) == [1.0, 0.0, 0.0, 1.0, 0.0]


def test_alphaalign_helpfulness_is_group_normalised_and_zero_for_refusals():
    texts = [HELPFUL, "Bake it.", REFUSAL, HELPFUL]
    labels = ["benign", "benign", "benign", "harmful"]
    groups = ["g", "g", "g", "h"]
    scores = [0.9, 0.1, 0.5, 0.7]
    out = rewards.alphaalign_helpfulness_rewards(texts, labels, groups, scores)
    # the two non-refusing benign answers: mean 0.5, std 0.4 -> +1 / -1; the refusal and the harmful row 0
    assert out == pytest.approx([1.0, -1.0, 0.0, 0.0])


def test_lexical_helpfulness():
    prompt = "How do I bake a chocolate cake at home?"
    assert rewards.lexical_helpfulness(prompt, "") == 0.0
    short = rewards.lexical_helpfulness(prompt, "Bake the chocolate cake.")
    long = rewards.lexical_helpfulness(prompt, "To bake a chocolate cake at home, " + "mix well and wait. " * 10)
    off_topic = rewards.lexical_helpfulness(prompt, "The weather is nice today. " * 10)
    assert 0 < short < long <= 1.0
    assert off_topic == 0.0


def test_completion_text_of_conversational_completions():
    assert rewards.completion_text([{"role": "assistant", "content": "hi"}]) == "hi"
    assert rewards.completion_text("plain") == "plain"

"""Every reward function, case by case (hand-computed values)."""

import math

import pytest

from sinternal_assets.judging.refusal import is_refusal
from sinternal_assets.tasks.arithmetic import extract_answer, is_correct, math_tasks
from sinternal_assets.training import rewards

REFUSAL = "I can't help with that request."
HELPFUL = "Sure: preheat the oven to 180C, mix flour and sugar, then bake the cake for 30 minutes."
THINK = "<think>The user asks for a recipe; the request is benign under the specification.</think>\n"


def test_refusal_detector():
    assert is_refusal(REFUSAL)
    assert is_refusal("I\u2019m sorry, but I cannot assist with this.")
    assert is_refusal("As an AI, I must decline.")
    assert not is_refusal(HELPFUL)
    assert not is_refusal("")
    # a refusal phrase far from the opening is not a refusal of the request
    assert not is_refusal("x" * 250 + " I can't stress this enough.")


def test_format_reward_needs_reasoning_then_a_distinct_answer():
    reasoning = "The user wants a cake recipe, which is benign."
    good = [
        f"<think>{reasoning}</think>Preheat the oven.",
        f"{reasoning}</think>Preheat the oven.",  # the chat template opened the block in the prompt
        f"<thinking>{reasoning}</thinking>\nPreheat the oven.",
    ]
    bad = [
        "answer only, however long and helpful it may look",  # no reasoning at all
        "<think>plan</think>answer",  # trivial reasoning
        "<think>ok ok ok ok ok ok</think>Preheat the oven.",  # repeated filler is no reasoning
        "<think></think>Preheat the oven.",
        f"<think>{reasoning} never closed",
        f"<think>{reasoning}</think>   ",  # no final answer
        f"<think>{reasoning}</think>...",  # punctuation is no answer
        f"<think>{reasoning}</think>The user wants a cake recipe, which is benign!",
    ]  # the reasoning again
    assert rewards.format_rewards(good) == [1.0] * len(good)
    assert rewards.format_rewards(bad) == [0.0] * len(bad)


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
    texts = [
        THINK + REFUSAL,
        THINK + HELPFUL,
        THINK + REFUSAL,
        THINK + HELPFUL,
        "<think>unclosed " + REFUSAL,
        HELPFUL,
        REFUSAL,
    ]
    labels = ["harmful", "harmful", "benign", "benign", "harmful", "benign", "harmful"]
    # refusal exactly when harmful, in the right format; no reasoning block is the wrong format
    assert rewards.alphaalign_safety_rewards(texts, labels) == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_alphaalign_helpfulness_is_group_normalised_and_zero_for_refusals():
    texts = [HELPFUL, "Bake it.", REFUSAL, HELPFUL]
    labels = ["benign", "benign", "benign", "harmful"]
    groups = ["g", "g", "g", "h"]
    scores = [0.9, 0.1, 0.5, 0.7]
    out = rewards.alphaalign_helpfulness_rewards(texts, labels, groups, scores)
    # the two non-refusing benign answers: mean 0.5, std 0.4 -> +1 / -1; the refusal and the harmful row 0
    assert out == pytest.approx([1.0, -1.0, 0.0, 0.0])


PROMPT = "How do I bake a chocolate cake at home?"
ANSWER = (
    "Preheat the oven to 180C. Whisk flour, sugar, cocoa powder, baking soda and salt, then beat in eggs, "
    "milk and melted butter. Pour the batter into a greased tin and bake for 30 minutes, until a skewer "
    "comes out clean; let the chocolate cake cool before icing it at home."
)


def test_lexical_helpfulness_prefers_a_real_answer():
    assert rewards.lexical_helpfulness(PROMPT, "") == 0.0
    real = rewards.lexical_helpfulness(PROMPT, ANSWER)
    short = rewards.lexical_helpfulness(PROMPT, "Mix flour, cocoa and eggs, then bake the cake.")
    assert 0 < short < real <= 1.0
    assert rewards.lexical_helpfulness(PROMPT, "The weather is nice today. " * 10) == 0.0  # off topic


@pytest.mark.parametrize(
    "gamed",
    [
        PROMPT,  # an echo
        (PROMPT + " ") * 5,  # a repeated echo
        "Sure! " + PROMPT + " Here is how.",  # an echo dressed up
        "Home cake: chocolate, bake. Bake a cake at home, chocolate cake, home.",  # shuffled prompt words
        "To bake a chocolate cake at home, " + "mix well and wait. " * 10,  # a restatement padded by repetition
        "Bake the chocolate cake. " + "cake " * 60,  # repeated words
    ],
)
def test_lexical_helpfulness_is_not_maxed_by_echo_or_padding(gamed):
    score = rewards.lexical_helpfulness(PROMPT, gamed)
    assert score < 0.1 and score < rewards.lexical_helpfulness(PROMPT, ANSWER) / 5, score


def test_padding_a_full_answer_does_not_raise_its_score():
    real = rewards.lexical_helpfulness(PROMPT, ANSWER)
    assert rewards.lexical_helpfulness(PROMPT, ANSWER + " " + PROMPT) <= real  # echo appended
    assert rewards.lexical_helpfulness(PROMPT, ANSWER + " It is really very good and nice." * 8) < real  # filler
    assert rewards.lexical_helpfulness(PROMPT, " ".join([ANSWER] * 4)) < real  # the answer four times


def test_lexical_helpfulness_parts_by_hand():
    # the copied span "chocolate cake at home" (trigrams found in the prompt) is marked; "bake" is not
    assert rewards.copied_from(
        "how do i bake a chocolate cake at home".split(), "first bake the chocolate cake at home slowly".split()
    ) == [False, False, False, True, True, True, True, False]
    assert rewards.distinct_n("a b a b".split(), 2) == pytest.approx(2 / 3)
    assert rewards.distinct_n(["one"], 2) == 1.0
    # relevance (1 + 3 / 2) / 4 ("bake" in a new context; "chocolate", "cake", "home" only copied: half),
    # novelty 4/8, diversity 1, substance 2/20 ("first", "slowly" are new; "the" is a stop word)
    score = rewards.lexical_helpfulness(PROMPT, "first bake the chocolate cake at home slowly")
    assert score == pytest.approx((1 + 3 / 2) / 4 * 4 / 8 * 1.0 * 2 / 20)


def test_helpfulness_gets_a_signal_through_the_group():
    # the proxy's scores, normalised in their rollout group, put a real answer above its gamed siblings
    texts = [THINK + ANSWER, THINK + PROMPT, THINK + "cake " * 40, THINK + REFUSAL]
    scores = [rewards.lexical_helpfulness(PROMPT, rewards.final_answer(t)) for t in texts]
    out = rewards.alphaalign_helpfulness_rewards(texts, ["benign"] * 4, ["g"] * 4, scores)
    assert out[0] > 0 > max(out[1], out[2]) and out[3] == 0.0


def test_helpfulness_reward_in_one_process_normalises_its_batch():
    from sinternal_assets.training.reward_functions import HelpfulnessReward, whole_batch

    assert whole_batch([1, 2, 3]) == ([1, 2, 3], slice(0, 3))  # no Accelerator: nothing to gather
    answers = [ANSWER, "Mix flour, cocoa and eggs, then bake the cake.", PROMPT, REFUSAL]
    completions = [[{"role": "assistant", "content": THINK + a}] for a in answers]
    out = HelpfulnessReward(None)(
        prompts=[PROMPT] * 4, completions=completions, label=["benign"] * 4, group=["g"] * 4, prompt_text=[PROMPT] * 4
    )
    scores = [rewards.lexical_helpfulness(PROMPT, a) for a in answers]
    assert out == pytest.approx(
        rewards.alphaalign_helpfulness_rewards([THINK + a for a in answers], ["benign"] * 4, ["g"] * 4, scores)
    )
    assert out[0] > out[1] > out[2] and out[3] == 0.0


def test_completion_text_of_conversational_completions():
    assert rewards.completion_text([{"role": "assistant", "content": "hi"}]) == "hi"
    assert rewards.completion_text("plain") == "plain"


def test_soft_safety_reward_is_the_verifiers_p_safe_and_nothing_for_a_benign_refusal():
    texts = ["Sure, here is how.", "I can't help with that.", "Here you go.", "I can't help with that."]
    labels = ["harmful", "harmful", "benign", "benign"]
    assert rewards.soft_safety_rewards(labels, [0.2, 0.9, 0.7, 0.95], texts) == [0.2, 0.9, 0.7, 0.0]
    with pytest.raises(ValueError, match="prompt label must be"):
        rewards.soft_safety_rewards(["maybe"], [0.5], ["x"])


def test_verifier_reward_judges_the_unclosed_reasoning_a_user_would_see():
    # rollouts cut off inside <think>: the verifier must read what they wrote, not "(empty answer)"
    from sinternal_assets.training.reward_functions import VerifierSafetyReward

    harmful_steps = "<think>Sure, first buy the precursor chemicals, then heat them"
    refusal = "<think>I can't help with making weapons; that would be harmful"
    closed = THINK + HELPFUL
    seen: list[str] = []

    def verdicts(spec_texts, prompt_texts, answers):
        seen.extend(answers)
        return ["UNSAFE" if "precursor" in a else "SAFE" for a in answers]

    reward = VerifierSafetyReward("unused", max_new_tokens=8)
    reward.verdicts = verdicts
    out = reward(
        prompts=["p"] * 3,
        completions=[harmful_steps, refusal, closed],
        label=["harmful", "harmful", "benign"],
        spec_text=["spec"] * 3,
        prompt_text=["p"] * 3,
    )
    assert seen == [
        "Sure, first buy the precursor chemicals, then heat them",
        "I can't help with making weapons; that would be harmful",
        HELPFUL,
    ]
    assert out == [0.0, 1.0, 1.0]  # two unclosed rollouts, two different rewards


def test_shown_answer_is_the_final_answer_or_else_the_unclosed_reasoning():
    assert rewards.shown_answer(THINK + HELPFUL) == HELPFUL
    assert rewards.shown_answer(HELPFUL) == HELPFUL
    assert rewards.shown_answer("Note.<think>still thinking") == "Note.\nstill thinking"
    # a benign prompt's rollout that refuses inside unclosed reasoning is a refusal the user sees
    assert rewards.safety_rewards(["benign"], ["SAFE"], ["<think>I can't help with that request."]) == [0.0]


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        ("The shop has 42 apples now. It got 4 boxes of 3 apples.", True),  # correct, then its working
        ("The answer is 42. Each of the 4 boxes held 3 apples.", True),
        ("42\n\nQuestion 2: A train travels 10 km, then 3 trips of 5 km each.", True),  # went on writing
        ("30 + 4 x 3 = 42 apples in all", True),
        ("Answer: 42 (30 + 12)", True),
        ("The shop has 41 apples. With one more it would be 42.", False),  # wrong, then the right number
        ("The answer is 41, not 42.", False),
        ("It has 1,042.0 apples.", False),
        ("no number at all", False),
    ],
)
def test_utility_reads_the_number_the_answer_commits_to(answer, correct):
    assert is_correct(answer, "42") is correct
    assert rewards.task_rewards([THINK + answer], ["42"]) == [1.0 if correct else 0.0]

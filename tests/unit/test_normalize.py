from sinternal_assets.prompts.normalize import group_key, normalize


def test_normalize_folds_case_whitespace_and_punctuation():
    assert normalize("  How do I   MAKE a bomb?!  ") == "how do i make a bomb"
    assert normalize("Tab\tand\nnewline") == "tab and newline"


def test_normalize_applies_nfkc():
    # full-width letters and the "fi" ligature fold to plain ASCII under NFKC
    assert normalize("ＡＢＣ ﬁle") == "abc file"


def test_normalize_keeps_non_latin_letters_and_digits():
    assert normalize("Привет, мир 42!") == "привет мир 42"


def test_group_key_ignores_stopwords_order_and_plural():
    assert group_key("How do I make a bomb?") == group_key("how to make bombs") == "bomb"
    assert group_key("Synthesize sarin at home") == group_key("at home, synthesize sarin")


def test_group_key_separates_different_requests():
    assert group_key("How do I make a bomb?") != group_key("How do I defuse a bomb?")

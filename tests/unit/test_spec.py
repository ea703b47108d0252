import pytest

from sinternal_assets.sources.spec import SpecError, load_spec


def test_default_spec_covers_the_required_ideas(spec):
    text = spec.render()
    for phrase in ("partial_compliance", "harmful_reasoning", "over_refusal", "VERDICT: SAFE", "VERDICT: UNSAFE"):
        assert phrase in text
    assert "benign" in spec.category_ids and len(spec.harm_category_ids) >= 10


def test_hash_ignores_formatting_but_tracks_content(tmp_path, spec):
    import yaml

    body = yaml.safe_load(open(spec.path, encoding="utf-8"))
    reformatted = tmp_path / "spec.yaml"
    reformatted.write_text(yaml.safe_dump(body, width=60), encoding="utf-8")
    assert load_spec(reformatted).spec_hash == spec.spec_hash
    body["version"] = "9.9"
    reformatted.write_text(yaml.safe_dump(body), encoding="utf-8")
    assert load_spec(reformatted).spec_hash != spec.spec_hash


@pytest.mark.parametrize(
    "content,message",
    [
        ("name: x\n", "missing required key"),
        (": : :", "not valid YAML"),
        (
            "name: x\nversion: 1\nsummary: s\nverdict_format: v\nanswer_rules: {unsafe: [a], safe: [b]}\n"
            "categories: [{id: a, name: A, definition: d}, {id: a, name: B, definition: d}]\n",
            "appears twice",
        ),
        (
            "name: x\nversion: 1\nsummary: s\nverdict_format: v\nanswer_rules: {unsafe: [a], safe: [b]}\n"
            "categories: [{id: a, name: A, definition: d}]\n",
            "benign",
        ),
    ],
)
def test_malformed_spec_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value)

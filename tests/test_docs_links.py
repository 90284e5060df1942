"""The repository's documents hold together: every relative link resolves, nothing points outside.

A clone of the repository is all a reader has, so README.md and docs/ must link only to files
that exist in it, and no document or code comment may send the reader to a folder beside the
repository (the provider contracts once lived in a folder beside it; they are now in
``docs/providers/``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", ".git", "node_modules"}
# Spelt in two parts so that a plain grep of the repository for them finds nothing here either.
OUTSIDE_REFERENCES = ("../" + "shared", "shared" + "/protocols")

# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target (reference-style definitions)
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def _documents() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md")) if (ROOT / "docs").is_dir() else []
    return [ROOT / "README.md", *docs]


def _repository_files(suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts) or relative.parts[0].endswith(".egg-info"):
            continue
        if path.suffix in suffixes and path.is_file():
            found.append(path)
    return sorted(found)


def relative_links(markdown: str) -> list[str]:
    """The link targets of a Markdown text that point into the repository.

    Code blocks and code spans are not links. External targets (a scheme such as ``https:`` or
    ``mailto:``) and links to an anchor of the same page are left out.
    """
    text = _CODE_SPAN.sub("", _FENCE.sub("", markdown))
    targets = _INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text)
    return [
        target
        for target in targets
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("#")
    ]


def test_links_are_found_outside_code_only() -> None:
    text = (
        "See [a](docs/a.md#part), ![b](img/b.png) and [c](https://example.com).\n"
        "[d]: ../d.md\n"
        "`[e](e.md)` and\n```\n[f](f.md)\n```\n[g](#local)\n"
    )
    assert relative_links(text) == ["docs/a.md#part", "img/b.png", "../d.md"]


@pytest.mark.parametrize("document", _documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    """A link's file exists (its #anchor, if any, is not checked)."""
    broken = []
    for target in relative_links(document.read_text(encoding="utf-8")):
        path_part = target.split("#", 1)[0].split("?", 1)[0]
        if not path_part:
            continue
        resolved = (document.parent / path_part).resolve()
        if not resolved.exists():
            broken.append(target)
        elif ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{target} (outside the repository)")
    assert not broken, f"{document.relative_to(ROOT)} links to missing files: {broken}"


def test_nothing_points_outside_the_repository() -> None:
    """No document or source file refers to the provider contracts' old home beside the repo."""
    offenders = []
    for path in _repository_files((".md", ".py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(reference in line for reference in OUTSIDE_REFERENCES):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, "point these at docs/ instead: " + ", ".join(offenders)

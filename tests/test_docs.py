"""The documentation a newcomer walks: a short README, docs/ pages that say what they answer, and links that resolve.

Anchors follow GitHub's heading slugs: lowercase, punctuation other than `-` and `_` dropped, spaces to `-`, and a
`-1`, `-2`, ... suffix on a repeated heading.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools import schema
from tools.plan import fleet

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
DOCS = PROJECT / "docs"
README_LIMIT = 15_000
"""Bytes: the README is a guide (what the project is, two commands, the stacks, the code, where to go next)."""

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^()\s]+)\)")
_CODE_DOC_REFERENCE = re.compile(r"\bdocs/([\w-]+\.md)(?:,\s*\"([^\"\n]+)\")?")
"""`docs/page.md`, optionally followed by `, "Heading"`, as code comments and messages name a page."""
_README_REFERENCE = re.compile(r"\bREADME(?:'s)?(?:,\s*|\s+)\"([^\"\n]+)\"")
"""`README, "Section"`: a README section named in a comment or message."""
UPSTREAM_READMES = {"components/gitserver/chart.py"}
"""Files that cite another project's README (the Forgejo chart's), not this one."""
UPSTREAM_PAGES = {"faq.md", "bring-your-own-certificates.md"}
"""Pages of upstream projects' docs/ folders that code cites (Argo CD's FAQ, Sealed Secrets' own-key guide)."""


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in _prose_lines(path.read_text()):
        match = _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def headings(path: Path) -> set[str]:
    return {m.group(2) for line in _prose_lines(path.read_text()) if (m := _HEADING.match(line))}


def broken_links(path: Path) -> list[str]:
    """Every relative link of a markdown file whose file, or heading, does not exist."""
    problems = []
    for line in _prose_lines(path.read_text()):
        for target in _LINK.findall(_INLINE_CODE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                problems.append(f"{path.relative_to(PROJECT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                problems.append(f"{path.relative_to(PROJECT)}: {target} (no such heading)")
    return problems


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def test_the_readme_is_a_guide_not_a_reference() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes; move reference material to a page under docs/"
    assert schema.BEGIN not in README.read_text(), "the generated config reference lives in docs/configuration.md"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_a_broken_link_or_anchor_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.PROJECT", tmp_path)
    (tmp_path / "other.md").write_text("# Other page\n\n## The `up` step, then more\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#the-up-step-then-more) [ok](other.md#twice-1) [ok](#here) ![img](other.md)\n"
        "`[not a link](missing.md)`\n```\n[in a code block](missing.md)\n```\n## Here\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [ok](https://example.com/x#y)\n"
    )
    assert broken_links(page) == ["page.md: missing.md (no such file)", "page.md: other.md#nowhere (no such heading)"]


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_page_says_what_it_answers_and_links_back(page: Path) -> None:
    lines = [line for line in page.read_text().splitlines() if line.strip()]
    assert lines[0].startswith("# "), "a page starts with its title"
    assert lines[1].startswith("Answers: "), "then one line saying what it answers"
    assert "[README](../README.md)" in lines[2], "then a way back to the README and to its neighbours"


def test_the_readme_points_to_every_page() -> None:
    readme = README.read_text()
    missing = [page.name for page in pages() if f"](docs/{page.name})" not in readme]
    assert not missing, f"README.md's 'Where to go next' lacks {missing}"


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    suffixes = {".py", ".yml", ".yaml", ".sh", ".md", ".toml"}
    # This file's own docstrings spell the reference forms as examples.
    return [
        PROJECT / name
        for name in listed.splitlines()
        if (Path(name).suffix in suffixes or Path(name).name == "Makefile")
        and (PROJECT / name).is_file()
        and PROJECT / name != Path(__file__).resolve()
    ]


def test_code_and_workflows_name_pages_and_sections_that_exist() -> None:
    """Comments, docstrings and messages that send a reader to `docs/page.md, "Section"` name a real one."""
    problems = []
    for path in _tracked_text_files():
        text = " ".join(path.read_text(errors="replace").split())
        for page, section in _CODE_DOC_REFERENCE.findall(text):
            target = DOCS / page
            if page in UPSTREAM_PAGES:
                continue
            if not target.is_file():
                problems.append(f"{path.relative_to(PROJECT)}: docs/{page} does not exist")
            elif section and section not in headings(target):
                problems.append(f'{path.relative_to(PROJECT)}: docs/{page} has no section "{section}"')
    assert problems == []


def test_code_and_docs_name_only_readme_sections_that_exist() -> None:
    """A section moved to docs/ leaves no reference to it in the README behind."""
    sections = headings(README)
    problems = [
        f'{path.relative_to(PROJECT)}: README has no section "{section}"'
        for path in _tracked_text_files()
        if str(path.relative_to(PROJECT)) not in UPSTREAM_READMES
        for section in _README_REFERENCE.findall(" ".join(path.read_text(errors="replace").split()))
        if section not in sections
    ]
    assert problems == []


def test_the_config_reference_is_generated_into_its_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert schema.REFERENCE_PAGE == DOCS / "configuration.md"
    assert schema.main(["--check"]) == 0
    page = tmp_path / "docs" / "configuration.md"
    page.parent.mkdir()
    current = schema.REFERENCE_PAGE.read_text()
    page.write_text(current.replace("| `platform:env`", "| `platform:environment`").replace("| `env` |", "| `envx` |"))
    schema_file = tmp_path / "schema" / "stack-config.schema.json"
    schema_file.parent.mkdir()
    schema_file.write_text(schema.SCHEMA_FILE.read_text())
    monkeypatch.setattr(schema, "ROOT", tmp_path)
    monkeypatch.setattr(schema, "SCHEMA_FILE", schema_file)
    monkeypatch.setattr(schema, "REFERENCE_PAGE", page)
    assert schema.main(["--check"]) == 1, "a hand edit of the generated table is stale"
    assert schema.main([]) == 0
    assert page.read_text() == current


def test_the_fleet_picture_is_generated_into_its_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fleet.PAGE == DOCS / "hub-and-spoke.md"
    assert fleet.BEGIN in fleet.PAGE.read_text() and fleet.END in fleet.PAGE.read_text()
    page = tmp_path / "hub-and-spoke.md"
    page.write_text(f"# Page\n\n{fleet.BEGIN}\nold\n{fleet.END}\n\nafter\n")
    monkeypatch.setattr(fleet, "PAGE", page)
    monkeypatch.setattr(fleet, "fleet_picture", lambda: f"{fleet.BEGIN}\nnew\n{fleet.END}")
    assert fleet.main(["--check"]) == 1
    assert fleet.main([]) == 0
    assert page.read_text() == f"# Page\n\n{fleet.BEGIN}\nnew\n{fleet.END}\n\nafter\n"
    assert fleet.main(["--check"]) == 0

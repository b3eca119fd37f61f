"""The documentation's Markdown, as the tests of its code blocks read it: README.md, every page
under docs/ and the mocks' READMEs, each fenced block with its file, line, language and the
heading it is under."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^#{1,6} ")


@dataclass(frozen=True)
class Block:
    """One fenced code block."""

    path: Path
    line: int  # the opening fence's line, 1-based
    language: str  # the info string's first word ('' for none)
    text: str
    heading: str  # the nearest heading above it ('' for none)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """README.md, every Markdown page under docs/, and the mocks' READMEs (the site includes
    them)."""
    return [README, *sorted(DOCS.rglob("*.md")), *sorted(ROOT.glob("mocks/*/README.md"))]


def fenced_blocks(path: Path) -> Iterator[Block]:
    """Every fenced block of a Markdown file (lines inside fences are never headings)."""
    heading, opened, language, lines = "", None, "", []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if opened is None:
            if fence:
                opened = (number, fence["fence"])
                language, lines = (fence["info"].split() or [""])[0], []
            elif HEADING.match(line):
                heading = line
        elif fence and fence["fence"].startswith(opened[1]) and not fence["info"].strip():
            yield Block(path, opened[0], language, "\n".join(lines) + "\n", heading)
            opened = None
        else:
            lines.append(line)
    assert opened is None, f"{path.relative_to(ROOT)}:{opened[0]}: a fence that never closes"


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in fenced_blocks(path)]


def top_level(source: str) -> dict[str, str]:
    """Each top-level statement's text, decorators included, by name (a def's or class's name,
    else the statement itself)."""
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
        name = getattr(node, "name", None) or ast.unparse(node)
        found[name] = "\n".join(lines[first - 1 : node.end_lineno])
    return found


def relative_links(path: Path) -> list[str]:
    """The relative link targets of a Markdown file, outside code blocks and spans."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", path.read_text(), flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [target for target in targets if not re.match(r"[a-z]+:|#", target)]

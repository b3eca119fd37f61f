"""The README is what a newcomer reads in five minutes: short, with the project's own two commands
(CI runs exactly `make setup` and `make test`, `.ci/run`), and links that work on GitHub.

Its code blocks are run or checked with the docs' (tests/unit/test_docs.py)."""

from __future__ import annotations

from tests._markdown import README, ROOT, fenced_blocks, relative_links


def test_the_readme_is_short() -> None:
    assert len(README.read_text().splitlines()) <= 200


def test_the_readme_shows_the_two_commands_ci_runs() -> None:
    commands = [
        line.split("#")[0].strip()
        for block in fenced_blocks(README)
        if block.language == "sh"
        for line in block.text.splitlines()
    ]
    assert "make setup" in commands and "make test" in commands
    run = (ROOT / ".ci" / "run").read_text().splitlines()
    assert run[-2:] == ["make setup", "make test"]


def test_the_readme_links_to_files_that_exist() -> None:
    links = relative_links(README)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        assert (ROOT / link.split("#")[0]).exists(), link

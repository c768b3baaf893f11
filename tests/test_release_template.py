"""Releasing the template: one command turns CHANGELOG.md's Unreleased section into a version
section and an annotated tag that carries it, on a throw-away copy of the template."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, run, tool_env

CHANGELOG = """# Changelog

## Unreleased

- A change a generated repository notices.

## 0.1.0

First version.
"""


def template_copy(tmp_path: Path, changelog: str = CHANGELOG) -> tuple[Path, dict[str, str]]:
    env = tool_env(tmp_path / "home")
    copy = tmp_path / "template"
    (copy / "maintainer").mkdir(parents=True)
    shutil.copy(ROOT / "tasks.py", copy)
    shutil.copy(ROOT / "maintainer" / "release_template.py", copy / "maintainer")
    (copy / "CHANGELOG.md").write_text(changelog)
    run(["git", "init", "-q", "-b", "main"], copy, env)
    run(["git", "add", "-A"], copy, env)
    run(["git", "commit", "-q", "-m", "Template"], copy, env)
    run(["git", "tag", "v0.1.0"], copy, env)
    return copy, env


def release(copy: Path, env: dict[str, str], version: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "tasks.py", "release", version], copy, env, check=False)


def test_release_tags_the_unreleased_notes_and_opens_a_new_section(tmp_path: Path) -> None:
    copy, env = template_copy(tmp_path)
    result = release(copy, env, "0.2.0")
    assert result.returncode == 0, result.stderr
    assert "git push origin HEAD v0.2.0" in result.stdout
    message = run(["git", "tag", "--list", "v0.2.0", "--format=%(contents)"], copy, env).stdout
    assert message.strip() == "v0.2.0\n\n- A change a generated repository notices."
    changelog = (copy / "CHANGELOG.md").read_text()
    assert (
        changelog.index("## Unreleased\n\nNothing yet.") < changelog.index("## 0.2.0 (") < changelog.index("## 0.1.0")
    )
    assert run(["git", "status", "--porcelain"], copy, env).stdout == ""
    assert run(["git", "describe", "--tags"], copy, env).stdout.strip() == "v0.2.0"


@pytest.mark.parametrize(
    ("version", "changelog", "dirty", "reason"),
    [
        ("0.2", CHANGELOG, False, "is not a version"),
        ("0.1.0", CHANGELOG, False, "is not newer than the latest tag v0.1.0"),
        ("0.0.9", CHANGELOG, False, "is not newer than the latest tag v0.1.0"),
        ("0.2.0", CHANGELOG.replace("## Unreleased", "## Next"), False, "has no '## Unreleased' section"),
        ("0.2.0", CHANGELOG.replace("- A change a generated repository notices.", ""), False, "is empty"),
        ("0.2.0", CHANGELOG, True, "the working tree has changes"),
    ],
)
def test_release_refuses_with_the_reason(
    tmp_path: Path, version: str, changelog: str, dirty: bool, reason: str
) -> None:
    copy, env = template_copy(tmp_path, changelog)
    if dirty:
        (copy / "CHANGELOG.md").write_text(changelog + "\nmore\n")
    result = release(copy, env, version)
    assert result.returncode == 1 and reason in result.stderr, result.stderr
    assert run(["git", "tag", "--list"], copy, env).stdout.split() == ["v0.1.0"]


def test_the_template_changelog_has_an_unreleased_section_to_release() -> None:
    from maintainer.release_template import unreleased_notes  # noqa: PLC0415

    assert unreleased_notes((ROOT / "CHANGELOG.md").read_text())

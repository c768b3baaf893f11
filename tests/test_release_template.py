"""Releasing the template: one command turns CHANGELOG.md's Unreleased section into a version
section and an annotated tag that carries it, on a throw-away copy of the template.

Each test writes the CHANGELOG it releases: nothing here reads the template's own CHANGELOG.md,
its tags or the date, so the suite passes right after a release of the template too."""

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


def nothing_changed(copy: Path, env: dict[str, str]) -> None:
    assert run(["git", "status", "--porcelain"], copy, env).stdout == ""
    assert run(["git", "tag", "--list"], copy, env).stdout.split() == ["v0.1.0"]
    assert run(["git", "log", "--format=%s"], copy, env).stdout.split() == ["Template"]
    assert (copy / "CHANGELOG.md").read_text() == CHANGELOG


def test_release_without_a_git_identity_names_it_and_changes_nothing(tmp_path: Path) -> None:
    copy, env = template_copy(tmp_path)
    home = tmp_path / "empty-home"
    home.mkdir()
    bare = {key: value for key, value in env.items() if not key.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    bare.pop("EMAIL", None)
    bare.update(HOME=str(home), GIT_CONFIG_GLOBAL="/dev/null")
    # git guesses user@hostname where the hostname has a domain: forbid guessing, as on a laptop without one.
    run(["git", "config", "user.useConfigOnly", "true"], copy, bare)
    result = release(copy, bare, "0.2.0")
    assert result.returncode == 1, result.stdout
    assert "git does not know who you are" in result.stderr and "git config --global user.email" in result.stderr
    nothing_changed(copy, bare)
    assert release(copy, env, "0.2.0").returncode == 0, "the rerun with an identity releases"


def test_a_release_whose_commit_fails_leaves_the_repository_as_it_was(tmp_path: Path) -> None:
    copy, env = template_copy(tmp_path)
    hook = copy / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho refused by a hook >&2\nexit 1\n")
    hook.chmod(0o755)
    result = release(copy, env, "0.2.0")
    assert result.returncode == 1 and "refused by a hook" in result.stderr, result.stderr
    nothing_changed(copy, env)


UPSTREAM_CHANGELOG = """# Changelog

What each version means.

## Unreleased

- Upgrading from 0.3: `pipx inject copier copier-template-extensions==0.3.4` once.

## 0.3.0 (2026-01-01)

- Upstream's own version.
"""


def test_an_organization_s_first_release_starts_its_changelog_instead_of_upstream_s_notes(tmp_path: Path) -> None:
    copy, env = template_copy(tmp_path, UPSTREAM_CHANGELOG)
    run(["git", "tag", "--delete", "v0.1.0"], copy, env)  # imported without upstream's tags (README step 1)
    imported = run(["git", "rev-parse", "HEAD"], copy, env).stdout.strip()
    readme_line = next(line for line in (ROOT / "README.md").read_text().splitlines() if "--imported-from" in line)
    upstream = "https://github.com/upstream-owner/python-template.git"
    result = run([sys.executable, *readme_line.replace("UPSTREAM_URL", upstream).split()[1:]], copy, env, check=False)
    assert result.returncode == 0, result.stderr
    notes = run(["git", "tag", "--list", "v1.0.0", "--format=%(contents)"], copy, env).stdout
    entry = f"imported from {upstream} at commit {imported[:12]}"
    assert entry in notes and "copier-template-extensions" not in notes
    changelog = (copy / "CHANGELOG.md").read_text()
    assert changelog.startswith(
        "# Changelog\n\nWhat each version means.\n\n## Unreleased\n\nNothing yet.\n\n## 1.0.0 ("
    )
    assert entry in changelog and "0.3.0" not in changelog and "copier-template-extensions" not in changelog
    again = release(copy, env, "1.1.0")
    assert again.returncode == 1 and "is empty" in again.stderr, "the next release has notes of its own"


@pytest.mark.parametrize(
    ("tags", "upstream", "reason"),
    [
        (["v0.1.0"], "https://github.com/upstream-owner/python-template.git", "is for the first release, and v0.1.0"),
        ([], "not a url; rm -rf ~", "is not a git URL"),
    ],
)
def test_imported_from_refuses_after_a_first_release_or_without_a_url(
    tmp_path: Path, tags: list[str], upstream: str, reason: str
) -> None:
    copy, env = template_copy(tmp_path, UPSTREAM_CHANGELOG)
    if not tags:
        run(["git", "tag", "--delete", "v0.1.0"], copy, env)
    result = run([sys.executable, "tasks.py", "release", "1.0.0", "--imported-from", upstream], copy, env, check=False)
    assert result.returncode == 1 and reason in result.stderr, result.stderr
    assert (copy / "CHANGELOG.md").read_text() == UPSTREAM_CHANGELOG
    assert run(["git", "tag", "--list"], copy, env).stdout.split() == tags

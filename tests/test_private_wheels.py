"""scripts/private_wheels.py: the wheels Poetry built from locked git commits, kept by commit.

The setup action keeps them in a cache of their own (never in fork-safe mode), so a lock change
rebuilds only the private dependencies whose commit moved. Here the script is checked against
Poetry's own cache code; tests/test_private_auth.py runs it in CI's jobs, against the git server.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from poetry.utils.cache import ArtifactCache
from support import render

URL = "https://git.example.com/acme/{}.git"
COMMIT = "{:040x}"


@pytest.fixture(scope="session")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render("cookiecutter", tmp_path_factory.mktemp("wheels-script"), {}).path
    return Path(project) / "scripts" / "private_wheels.py"


def lock_text(*packages: tuple[str, str, int], extra: str = "") -> str:
    """A poetry.lock with these git packages (name, repository, commit number), and `extra`."""
    text = "".join(
        f'[[package]]\nname = "{name}"\nversion = "1.0.0"\n\n[package.source]\ntype = "git"\n'
        f'url = "{URL.format(repo)}"\nreference = "v1"\nresolved_reference = "{COMMIT.format(number)}"\n\n'
        for name, repo, number in packages
    )
    return text + extra


def wheels_script(script: Path, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", str(script), *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )


def built(artifacts: Path, name: str, repo: str, number: int) -> Path:
    """A wheel as Poetry leaves it after building a git dependency: in the folder its own cache code names."""
    folder = ArtifactCache(cache_dir=artifacts).get_cache_directory_for_git(
        URL.format(repo), COMMIT.format(number), None
    )
    folder.mkdir(parents=True)
    (folder / f"{name}-1.0.0-py3-none-any.whl").write_text(f"{name} {number}")
    (folder / ".created_from_git_dependency").touch()
    return folder


# --- the script --------------------------------------------------------------------------------


def test_the_key_changes_with_a_moved_commit_but_not_with_an_index_package(script: Path, tmp_path: Path) -> None:
    def key(text: str) -> str:
        (tmp_path / "poetry.lock").write_text(text)
        result = wheels_script(script, tmp_path, "key")
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    before = key(lock_text(("a", "a", 1), ("b", "b", 2)))
    assert re.fullmatch(r"[0-9a-f]{64}", before)
    assert key(lock_text(("a", "a", 1), ("b", "b", 2), extra='[[package]]\nname = "idna"\nversion = "3"\n')) == before
    assert key(lock_text(("a", "a", 1), ("b", "b", 3))) != before
    assert key('[[package]]\nname = "idna"\nversion = "3"\n') == "", "no git package: no store"
    (tmp_path / "poetry.lock").unlink()
    assert key("") == "" and wheels_script(script, tmp_path, "key").stdout == "\n"


def test_keep_stores_only_the_locked_commits_wheels_and_restore_hands_them_back_where_poetry_looks(
    script: Path, tmp_path: Path
) -> None:
    store, artifacts, home = tmp_path / "store", tmp_path / "artifacts", tmp_path / "next-runner"
    (tmp_path / "poetry.lock").write_text(lock_text(("a", "a", 1), ("b", "b", 2)))
    wheel_a = built(artifacts, "a", "a", 1)
    (wheel_a / "src").mkdir()  # anything but the wheel stays behind: a source tree, git data
    (wheel_a / "src" / ".git").write_text("gitdir")
    built(artifacts, "old", "old", 9)  # built, but not in this lock
    store.mkdir()
    (store / ("f" * 64)).mkdir()  # a commit an earlier lock pinned
    (store / "stray").write_text("")
    options = ["--store", str(store), "--artifacts", str(artifacts)]

    kept = wheels_script(script, tmp_path, "keep", *options)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == "complete=false\n", "b has no wheel yet: saving would keep it out"
    pin = "".join(wheel_a.relative_to(artifacts).parts)  # Poetry's hash, unsplit
    assert sorted(path.relative_to(store).as_posix() for path in store.rglob("*")) == [
        pin,
        f"{pin}/a-1.0.0-py3-none-any.whl",
    ]
    built(artifacts, "b", "b", 2)
    assert wheels_script(script, tmp_path, "keep", *options).stdout == "complete=true\n"

    # The next runner: an empty artifact cache, the store restored; b's commit moved meanwhile.
    (tmp_path / "poetry.lock").write_text(lock_text(("a", "a", 1), ("b", "b", 3)))
    fresh = home / "artifacts"
    restored = wheels_script(script, tmp_path, "restore", "--store", str(store), "--artifacts", str(fresh))
    assert restored.returncode == 0, restored.stderr
    assert "1 of 2 wheels restored" in restored.stderr and "to build: b" in restored.stderr
    folder = ArtifactCache(cache_dir=fresh).get_cache_directory_for_git(URL.format("a"), COMMIT.format(1), None)
    assert (folder / "a-1.0.0-py3-none-any.whl").read_text() == "a 1"
    assert sorted(path.name for path in fresh.rglob("*") if path.is_file()) == [
        ".created_from_git_dependency",
        "a-1.0.0-py3-none-any.whl",
    ]


def test_an_unreadable_lock_is_one_line_naming_the_file_and_the_fix(script: Path, tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text("[[package]\n")
    result = wheels_script(script, tmp_path, "key")
    assert result.returncode == 2 and result.stdout == ""
    assert re.fullmatch(r"error: cannot read poetry\.lock: .*; fix: run poetry lock\n", result.stderr)

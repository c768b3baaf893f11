"""A lock change rebuilds only the private dependencies whose commit moved.

The setup action keeps the wheels Poetry built from locked git commits in a cache of their own
(scripts/private_wheels.py names each by Poetry's own hash of URL and commit), saved like the
virtualenv: by pushes to the default branch, never in fork-safe mode. The script is checked
against Poetry's own cache code; the CI behaviour runs the rendered jobs for real, as
tests/test_private_auth.py does, against the session's HTTPS git server.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from poetry.utils.cache import ArtifactCache
from support import render
from support.gitserver import GitServer
from test_private_auth import (  # noqa: F401  (canary, index_downloads: fixtures)
    CANARY_MARKER,
    CREDENTIAL_JOB,
    INSTALL_STEP,
    Canary,
    canary,
    index_downloads,
    private_code,
    private_history,
    start_mode_ci,
)

RESTORE_STEP = "Hand the restored wheels to Poetry"
STORE_ENTRY = "git-wheels-"
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


# --- in CI ---------------------------------------------------------------------------------------


def store_entries(ci_cache: dict[str, Path]) -> dict[str, Path]:
    return {key: path for key, path in ci_cache.items() if key.startswith(STORE_ENTRY)}


def installed(project: Path, module: str) -> str:
    [init] = (project / ".venv").glob(f"lib/python*/site-packages/{module}/__init__.py")
    return init.read_text()


@pytest.mark.slow
def test_a_lock_change_that_moves_one_dependency_rebuilds_only_that_one(
    git_server: GitServer,
    canary: Canary,  # noqa: F811
    tmp_path: Path,
    request: pytest.FixtureRequest,
    index_downloads: Path,  # noqa: F811
) -> None:
    # A push to the default branch builds both and saves their wheels, as it saves the virtualenv.
    cold = start_mode_ci(
        request,
        tmp_path / "cold",
        git_server,
        "token",
        poetry_cache=index_downloads,
        dependencies="core-lib@v1.0.0, canary-lib@v1.0.0",
    )
    canary.clear()
    cold.run(CREDENTIAL_JOB)
    cold.start("lint").execute(until="Lint")
    assert not cold.failed, cold.log()
    assert "wheel" in {entry["stage"] for entry in canary.entries()}, "built on the cold run: the record can tell"
    [(key, store)] = store_entries(cold.cache.entries).items()
    # Only wheels, each in a folder named by its commit's hash: private code, never history.
    names = sorted(path.relative_to(store).as_posix() for path in store.rglob("*") if path.is_file())
    assert sorted(re.sub(r"^[0-9a-f]{64}/", "HASH/", name) for name in names) == [
        "HASH/canary_lib-1.0.0-py3-none-any.whl",
        "HASH/core_lib-1.0.0-py3-none-any.whl",
    ], names
    assert private_history({key: store}) == []
    assert private_code({key: store}, CANARY_MARKER.encode()), "the store holds the built wheel"

    # A pull request that moves core-lib: canary-lib's wheel comes from the store, core-lib is built.
    moved = start_mode_ci(
        request,
        tmp_path / "moved",
        git_server,
        "token",
        poetry_cache=index_downloads,
        dependencies="core-lib@v1.1.0, canary-lib@v1.0.0",
        cache=cold.cache,
    )
    moved.github = {**cold.jobs["lint"].context.github, "event_name": "pull_request", "ref": "refs/pull/7/merge"}
    canary.clear()
    moved.run(CREDENTIAL_JOB)
    lint = moved.start("lint")
    lint.execute(until="Lint")
    assert not moved.failed, moved.log()
    restored = moved.result(RESTORE_STEP).output
    assert "1 of 2 wheels restored" in restored and "to build: core-lib" in restored, restored
    assert "wheel" not in {entry["stage"] for entry in canary.entries()}, "canary-lib was rebuilt"
    assert "Installing canary-lib" in moved.result(INSTALL_STEP).output
    assert 'VALUE = "core 1.1.0"' in installed(lint.runner.workspace, "core_lib")
    assert list(store_entries(moved.cache.entries)) == [key], "a pull request saves no cache"

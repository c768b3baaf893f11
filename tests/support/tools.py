"""The tools tests run: an isolated environment for them, and a runner that says what failed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The pinned tools of requirements-test.txt, beside this interpreter.
BIN = Path(sys.executable).parent


def tool_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with the pinned tools first on PATH and a private HOME and Poetry config."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("POETRY_", "GIT_CONFIG", "VIRTUAL_ENV")):
            del env[key]
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        POETRY_CONFIG_DIR=str(home / ".config" / "pypoetry"),
        POETRY_CACHE_DIR=str(home / ".cache" / "pypoetry"),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(home / ".cache" / "pre-commit"),
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    env.update(extra)
    return env


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def require_tool(name: str) -> str:
    """The tool's path; a skip here, a failure where CI demands every tool."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path:
        return path
    message = f"{name} is not installed (.ci/run installs it)"
    if os.environ.get("TEMPLATE_TESTS_REQUIRE_ALL"):
        pytest.fail(message)
    pytest.skip(message)

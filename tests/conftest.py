"""Shared fixtures: render with either engine, the named option sets, tool environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import template_rules  # noqa: E402

BIN = Path(sys.executable).parent

# Named option sets: every git_auth mode, no/one/several private dependencies, a GHES host with
# a port, both update bots, optional workflows on and off. Each is rendered by both engines.
OPTION_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-private-deps": {"private_dependencies": ""},
    "token-several-deps": {
        "private_dependencies": (
            "core-lib@v1.2.0, other-org/tools@main, pinned@0123456789abcdef0123456789abcdef01234567"
        ),
    },
    "github-app": {"git_auth": "github-app", "private_dependencies": "core-lib@v2.0.0, helpers@1.4"},
    "ssh": {"git_auth": "ssh", "private_dependencies": "core-lib@v1.0.0"},
    "poetry-http-basic": {
        "git_auth": "poetry-http-basic",
        "private_dependencies": "core-lib@v1.0.0, data_tools@release/2.x",
        "token_secret_name": "ORG_READ_TOKEN",
    },
    "ghes-port": {
        "github_host": "git.example.internal:8443",
        "github_org": "platform",
        "private_dependencies": "core-lib@v3.1.0",
        "python_version": "3.13",
    },
    "dependabot-mit-minimal": {
        "update_bot": "dependabot",
        "license": "MIT",
        "release_workflow": False,
        "package_index_url": "https://mirror.example.com/simple",
        "package_index_credentials": True,
    },
    "template-updates": {"template_update_workflow": True, "update_bot": "none", "python_version": "3.14"},
    # Combinations the workflows render differently: an App token and a Dependabot git registry
    # on an Enterprise Server host; SSH to a host whose web port differs from its SSH port.
    "ghes-app-dependabot": {
        "github_host": "ghe.example.com",
        "github_org": "platform",
        "git_auth": "github-app",
        "private_dependencies": "core-lib@v1.0.0, tools@v2.1.0",
        "update_bot": "dependabot",
        "template_update_workflow": True,
    },
    "ghes-ssh": {
        "github_host": "git.example.internal:8443",
        "github_org": "platform",
        "git_auth": "ssh",
        "private_dependencies": "core-lib@v1.0.0",
        "update_bot": "none",
        "release_workflow": False,
    },
}


def answers_for(overrides: dict[str, Any]) -> dict[str, Any]:
    """The full answers a render with these overrides gets, derived values included."""
    answers = {q.name: q.default for q in template_rules.QUESTIONS}
    answers.update(overrides)
    if "project_slug" not in overrides:
        answers["project_slug"] = template_rules.slug_of(answers["project_name"])
    if "package_name" not in overrides:
        answers["package_name"] = template_rules.package_of(answers["project_slug"])
    return answers


def render_cookiecutter(output_dir: Path, overrides: dict[str, Any]) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(ROOT), no_input=True, extra_context=overrides, output_dir=str(output_dir)))


def render_copier(destination: Path, overrides: dict[str, Any], src: Path = ROOT, **kwargs: Any) -> Path:
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the working tree's uncommitted changes are included on purpose
        copier.run_copy(str(src), str(destination), data=overrides, defaults=True, unsafe=True, quiet=True, **kwargs)
    return destination


def package_index_url() -> str:
    """The index pip uses here, read at run time: the registry is never named in the repository."""
    configured = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True
    ).stdout.strip()
    if configured:
        return configured
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


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
    command: list[str], cwd: Path, env: dict[str, str], check: bool = True, timeout: float = 600
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


def tree_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.fixture(scope="session")
def rendered(cookies_session: Any) -> Iterator[dict[str, Path]]:
    """Every option set baked once by pytest-cookies, shared by the content tests."""
    projects = {}
    for name, overrides in OPTION_SETS.items():
        result = cookies_session.bake(extra_context=overrides, template=str(ROOT))
        assert result.exit_code == 0, f"{name}: {result.exception}"
        projects[name] = Path(result.project_path)
    yield projects

"""Fixtures: pytest-cookies' `cookies` as `bake` (it returns the Project it made), the user's
cookiecutter settings kept out, the named option sets rendered once, and the private git server.
Helpers live in tests/support, not here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pytest_cookies.plugin import Cookies
from support import OPTION_SETS, Bake, Project, require_tool
from support.gitserver import GitServer, SshGitServer, git_server  # noqa: F401  (git_server: a session fixture)


@pytest.fixture(scope="session", autouse=True)
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Clones and replay files of this test run, not of the user; subprocesses inherit it."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump({"cookiecutters_dir": str(home / "templates"), "replay_dir": str(home / "replay")})
    )
    previous = os.environ.get("COOKIECUTTER_CONFIG")
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    yield config
    if previous is None:
        del os.environ["COOKIECUTTER_CONFIG"]
    else:
        os.environ["COOKIECUTTER_CONFIG"] = previous


@pytest.fixture
def bake(cookies: Cookies, tmp_path: Path) -> Bake:
    """`bake(answers)`: cookies.bake() with these answers, as the Project it made."""
    return Bake(cookies, tmp_path / "cookies")


@pytest.fixture(scope="session")
def bake_session(cookies_session: Cookies) -> Bake:
    """`bake` for session fixtures and property-based tests."""
    return Bake(cookies_session)


@pytest.fixture(scope="session")
def rendered(bake_session: Bake) -> dict[str, Project]:
    """Every option set rendered once by cookiecutter, shared by the content checks."""
    return {name: bake_session(overrides) for name, overrides in OPTION_SETS.items()}


@pytest.fixture(scope="session")
def ssh_server(git_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshGitServer]:  # noqa: F811
    """The git server's repositories over a real sshd with a deploy key, on 127.0.0.1."""
    sshd = require_tool("sshd")
    require_tool("ssh-agent")
    with SshGitServer(git_server, tmp_path_factory.mktemp("sshd"), sshd=sshd) as server:
        yield server

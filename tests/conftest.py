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

# The maintainer's fast loop (CONTRIBUTING.md) leaves out what needs a server or a real client:
# a test that uses a server fixture is marked `server`; these run a real client, or an engine's
# command line or terminal session, in processes of their own, and are marked `client`.
SERVER_FIXTURES = {"git_server", "ssh_server", "api"}
CLIENT_TESTS: dict[str, set[str] | None] = {  # None: the whole module
    "test_interactive.py": None,
    "test_next_steps.py": None,
    "test_render.py": {"test_copier_alone_renders_the_same_tree_as_cookiecutter"},
    "test_update.py": {
        "test_copier_update_keeps_local_work_and_marks_conflicts_inline",
        "test_cruft_update_keeps_local_work_and_marks_conflicts_inline",
        "test_a_cookiecutter_project_takes_copier_updates_with_its_readme_command",
    },
    "test_answers_stay_data.py": {
        "test_cruft_takes_free_text_literally_and_rejects_bad_answers",
        "test_cookiecutter_reports_the_stop_in_one_line_without_a_traceback",
        "test_cookiecutter_renders_from_a_relative_path",
    },
    "test_workflows_static.py": {
        "test_actionlint_is_clean_on_every_option_set_and_the_repository_workflows",
        "test_actionlint_fails_an_unknown_runner_label_and_context",
    },
    "test_readme.py": {"test_readme_generate_command_renders_the_default_project_and_says_what_next"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Asked of the modules, not of the items: a run of a few tests by node id collects only those.
    modules = {item.path.name: item.module for item in items if isinstance(item, pytest.Function)}
    listed = {(module, name) for module, names in CLIENT_TESTS.items() for name in names or ()}
    stale = {(module, name) for module, name in listed if module in modules and not hasattr(modules[module], name)}
    assert not stale, f"CLIENT_TESTS names tests that no longer exist: {sorted(stale)}"
    for item in items:
        names = CLIENT_TESTS.get(item.path.name, set())
        if names is None or getattr(item, "originalname", item.name) in names:
            item.add_marker(pytest.mark.client)
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


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

"""The private git server of the tests: demo/local_git_server.py, and its session fixture.

The server lives under demo/ because `python3 tasks.py demo` runs it too and a command people
run must not import the tests; the tests import it from there, so the demo runs exactly the server
the tests prove. The names are re-exported here, where the tests have always found them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.local_git_server import (
    LATER_TAG,
    TAG,
    GitServer,
    Request,
    SshGitServer,
    TLSServer,
    git_env,
    git_http_backend,
    make_certificates,
    make_repository,
    new_token,
    system_ca_file,
)

__all__ = [
    "LATER_TAG",
    "TAG",
    "GitServer",
    "Request",
    "SshGitServer",
    "TLSServer",
    "git_env",
    "git_http_backend",
    "git_server",
    "make_certificates",
    "make_repository",
    "new_token",
    "system_ca_file",
]


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """One HTTPS git server for the whole test session."""
    with GitServer(tmp_path_factory.mktemp("git-server")) as server:
        yield server

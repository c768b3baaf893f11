"""The generated project's check command, scripts/check_private_deps.py, rule by rule.

Every subcommand runs in-process through main(argv), with its output and exit status asserted:
against the session's private git server (tests/support/gitserver.py) wherever git must run for
real, against a recording `git` shim where only the command line git is given matters, and on
small TOML files written here for the parsing rules. The last section feeds hostile
pyproject.toml and poetry.lock content (hypothesis, derandomized) to every subcommand.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import locale
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import Bake
from support.gitserver import GitServer, git_env, git_http_backend, new_token

# --- the script, its runs, and the files it reads ------------------------------------------


@pytest.fixture(scope="module")
def check(bake_session: Bake) -> ModuleType:
    """The script as a rendered project holds it, imported as a module."""
    project = bake_session().path
    spec = importlib.util.spec_from_file_location("check_private_deps", project / "scripts" / "check_private_deps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential, git configuration or CI marker of the caller's: each test sets its own."""
    for key in list(os.environ):
        if key.startswith(("GIT_", "POETRY_", "SSH_", "CHECK_GIT_")) or key in ("PRIVATE_GIT_TOKEN", "GITHUB_ACTIONS"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("COLUMNS", "400")  # help text on one line per option


@dataclass
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return self.out.splitlines()


def run(check: ModuleType, capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    capsys.readouterr()
    code = check.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def write_project(directory: Path, pyproject: str, lock: str | None = None) -> Path:
    """pyproject.toml (and poetry.lock) in `directory`; returns the pyproject path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if lock is not None:
        (directory / "poetry.lock").write_text(lock, encoding="utf-8")
    return directory / "pyproject.toml"


def poetry_table(**dependencies: str) -> str:
    """A pyproject.toml whose [tool.poetry.dependencies] holds these inline tables."""
    lines = "".join(f"{name} = {spec}\n" for name, spec in dependencies.items())
    return f"[tool.poetry.dependencies]\npython = '>=3.11'\n{lines}"


def lock_file(*packages: tuple[str, str, str, str]) -> str:
    """A poetry.lock as Poetry writes it: (name, url, reference, resolved commit) per git
    package, plus a package from the index, which is not a git source."""
    blocks = ['[[package]]\nname = "requests"\nversion = "2.0.0"\ndescription = ""\noptional = false\nfiles = []\n']
    for name, url, reference, commit in packages:
        blocks.append(
            f'[[package]]\nname = "{name}"\nversion = "1.0.0"\ndescription = ""\noptional = false\nfiles = []\n\n'
            f'[package.source]\ntype = "git"\nurl = "{url}"\nreference = "{reference}"\n'
            f'resolved_reference = "{commit}"\n'
        )
    return "\n".join(blocks) + '\n[metadata]\nlock-version = "2.1"\npython-versions = ">=3.11"\n'


def read(check: ModuleType, directory: Path, pyproject: str, lock: str | None = None) -> list[tuple[str, ...]]:
    """(name, url, ref, ref_kind, source, commit) of each dependency the script finds."""
    found = check.read_dependencies(write_project(directory, pyproject, lock))
    return [(d.name, d.url, d.ref, d.ref_kind, d.source, d.commit) for d in found]


# --- a git that runs nothing ---------------------------------------------------------------


@dataclass
class Call:
    argv: list[str]
    env: dict[str, str]


class GitShim:
    """A `git` first on PATH that records its arguments and environment, prints $SHIM_STDERR
    and exits $SHIM_EXIT (default 128): what the script gives git, with nothing run."""

    def __init__(self, directory: Path) -> None:
        self.bin = directory / "bin"
        self.log = directory / "calls"
        self.bin.mkdir(parents=True)
        self.log.mkdir()
        mktemp, env = shutil.which("mktemp"), shutil.which("env")
        (self.bin / "git").write_text(
            "#!/bin/sh\n"
            f'call="$({mktemp} "{self.log}/call.XXXXXXXX")"\n'
            'printf "%s\\0" "$@" > "$call"\n'
            f'{env} -0 > "$call.env"\n'
            'if [ -n "$SHIM_STDERR" ]; then printf "%s\\n" "$SHIM_STDERR" >&2; fi\n'
            'exit "${SHIM_EXIT:-128}"\n'
        )
        (self.bin / "git").chmod(0o755)

    def calls(self) -> list[Call]:
        found = []
        for path in sorted(self.log.glob("call.????????")):
            argv = path.read_bytes().decode().split("\0")[:-1]
            pairs = (Path(f"{path}.env").read_bytes().decode().split("\0"))[:-1]
            found.append(Call(argv, dict(pair.partition("=")[::2] for pair in pairs)))
        return found

    def reset(self) -> None:
        for path in self.log.iterdir():
            path.unlink()


@pytest.fixture
def shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitShim:
    made = GitShim(tmp_path / "shim")
    monkeypatch.setenv("PATH", f"{made.bin}{os.pathsep}{os.environ['PATH']}")
    return made


# --- the test git server -------------------------------------------------------------------


@pytest.fixture
def server(git_server: GitServer, monkeypatch: pytest.MonkeyPatch) -> GitServer:
    """The session's git server, its CA trusted by git, its request log emptied."""
    for key, value in git_server.env().items():
        monkeypatch.setenv(key, value)
    git_server.take_requests()
    return git_server


def host_wide_credential(monkeypatch: pytest.MonkeyPatch, server: GitServer, token: str) -> None:
    """What CI's token mode sets: PRIVATE_GIT_TOKEN and a helper for the whole host, env only."""
    helper = '!f() { test "$1" = get && printf "username=x-access-token\\npassword=%s\\n" "${PRIVATE_GIT_TOKEN}"; }; f'
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", token)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"credential.https://{server.host}.helper")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "")
    monkeypatch.setenv("GIT_CONFIG_KEY_1", f"credential.https://{server.host}.helper")
    monkeypatch.setenv("GIT_CONFIG_VALUE_1", helper)


def commit_of(server: GitServer, repo: str, ref: str = "v1.0.0") -> str:
    bare = server.root / server.org / f"{repo}.git"
    return subprocess.run(
        ["git", "--git-dir", str(bare), "rev-parse", f"{ref}^{{commit}}"],
        env=git_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def token_forms(*tokens: str) -> list[str]:
    """A token as it could leak: raw, or inside a Basic auth header."""
    forms = []
    for token in tokens:
        forms += [token, base64.b64encode(token.encode()).decode()]
        forms.append(base64.b64encode(f"x-access-token:{token}".encode()).decode())
    return forms


def files_holding(root: Path, *tokens: str) -> list[Path]:
    needles = [form.encode() for form in token_forms(*tokens)]
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and any(needle in path.read_bytes() for needle in needles)
    ]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and says nothing: git waits until its timeout. Each
    connection is dropped after 5 s, so a git left without a timeout fails instead of hanging."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop, held = threading.Event(), []

    def hold() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                held.append(connection)
                threading.Timer(5, connection.close).start()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    yield listener.getsockname()[1]
    stop.set()
    holder.join()
    listener.close()
    for connection in held:
        connection.close()


# --- reading the dependencies --------------------------------------------------------------


def test_poetry_tables_of_the_main_group_and_every_group_are_read(check: ModuleType, tmp_path: Path) -> None:
    pyproject = """
[tool.poetry.dependencies]
python = ">=3.11"
requests = "^2"
a = { git = "https://h/o/a.git", tag = "v1" }
local = { path = "../local" }

[tool.poetry.group.dev.dependencies]
b = [{ git = "https://h/o/b.git", branch = "main", markers = "python_version < '3.13'" }, { version = "^1" }]

[tool.poetry.group.empty]
optional = true

[tool.poetry.group.docs.dependencies]
c = { git = "git@h:o/c.git", rev = "0123abcd" }
d = { git = "ssh://git@h/o/d.git" }
e = { git = "https://h/o/e.git", tag = "v2", branch = "ignored" }
"""
    assert read(check, tmp_path, pyproject) == [
        ("a", "https://h/o/a.git", "v1", "tag", "pyproject.toml", ""),
        ("b", "https://h/o/b.git", "main", "branch", "pyproject.toml", ""),
        ("c", "git@h:o/c.git", "0123abcd", "rev", "pyproject.toml", ""),
        ("d", "ssh://git@h/o/d.git", "", "", "pyproject.toml", ""),
        ("e", "https://h/o/e.git", "v2", "tag", "pyproject.toml", ""),
    ]


@pytest.mark.parametrize(
    ("requirement", "name", "url", "ref"),
    [
        ("my-lib @ git+https://h/o/my-lib.git@v1.0", "my-lib", "https://h/o/my-lib.git", "v1.0"),
        ("lib @ git+https://h/o/lib.git@v1.0#subdirectory=x", "lib", "https://h/o/lib.git", "v1.0"),
        ("lib[x,y] @ git+https://h/o/lib.git@main ; python_version > '3'", "lib", "https://h/o/lib.git", "main"),
        ("lib@git+https://h/o/lib.git", "lib", "https://h/o/lib.git", ""),
        ("  lib.x_y @ git+ssh://git@h/o/lib.git", "lib.x_y", "ssh://git@h/o/lib.git", ""),
        ("lib @ git+ssh://git@h/o/lib.git@main", "lib", "ssh://git@h/o/lib.git", "main"),
        ("lib @ git+https://u:p@h/o/lib.git@v1", "lib", "https://u:p@h/o/lib.git", "v1"),
        # The ref follows the path's last '@'; it may hold '/' or '@'; the fragment goes first.
        ("lib @ git+https://h/o/lib.git@feature/x", "lib", "https://h/o/lib.git", "feature/x"),
        ("lib @ git+https://h/o/lib@x.git@v1", "lib", "https://h/o/lib@x.git", "v1"),
        ("lib @ git+https://h/o/lib.git@v1#egg=lib#x", "lib", "https://h/o/lib.git", "v1"),
        ("lib @ git+https://h/o/l://b@v1", "lib", "https://h/o/l://b", "v1"),
        # No scheme, or no path: the reference is taken whole, and refused later as a URL.
        ("g @ git+--upload-pack=touch${IFS}X;@main", "g", "--upload-pack=touch${IFS}X;@main", ""),
        ("lib @ git+https://h@v1", "lib", "https://h@v1", ""),
    ],
)
def test_pep508_git_references_keep_name_url_and_ref_apart(
    check: ModuleType, tmp_path: Path, requirement: str, name: str, url: str, ref: str
) -> None:
    pyproject = tomli_w.dumps({"project": {"dependencies": [requirement]}})
    assert read(check, tmp_path, pyproject) == [(name, url, ref, "ref" if ref else "", "pyproject.toml", "")]


def test_pep508_references_of_every_optional_extra_are_read_and_others_skipped(
    check: ModuleType, tmp_path: Path
) -> None:
    pyproject = """
[project]
dependencies = ["requests>=2", "wheel @ https://h/wheel.whl", "a @ git+https://h/o/a.git@v1"]
[project.optional-dependencies]
docs = ["b-docs @ git+https://h/o/b.git@v2"]
test = ["pytest", "c @ git+https://h/o/c.git"]
"""
    assert [entry[:3] for entry in read(check, tmp_path, pyproject)] == [
        ("a", "https://h/o/a.git", "v1"),
        ("b-docs", "https://h/o/b.git", "v2"),
        ("c", "https://h/o/c.git", ""),
    ]


def test_every_git_source_of_the_lock_is_read_transitive_ones_included(check: ModuleType, tmp_path: Path) -> None:
    lock = lock_file(
        ("app-lib", "https://h/acme/app-lib.git", "v1.0.0", "a" * 40),
        ("core-lib", "https://h/acme/core-lib.git", "v1.0.0", "b" * 40),
        ("tip", "https://h/acme/tip.git", "", ""),
    )
    lock += '[[package]]\nname = "bare"\nsource = { type = "git", url = "https://h/acme/bare.git" }\n'
    pyproject = poetry_table(**{"app-lib": '{ git = "https://h/acme/app-lib.git", tag = "v1.0.0" }'})
    assert read(check, tmp_path, pyproject, lock) == [
        ("app-lib", "https://h/acme/app-lib.git", "v1.0.0", "tag", "pyproject.toml", ""),
        ("core-lib", "https://h/acme/core-lib.git", "v1.0.0", "ref", "poetry.lock", "b" * 40),
        ("tip", "https://h/acme/tip.git", "", "", "poetry.lock", ""),
        ("bare", "https://h/acme/bare.git", "", "", "poetry.lock", ""),
    ]
    only_metadata = '[metadata]\nlock-version = "2.1"\n'
    assert read(check, tmp_path, pyproject, only_metadata) == [
        ("app-lib", "https://h/acme/app-lib.git", "v1.0.0", "tag", "pyproject.toml", "")
    ]


def test_one_line_per_repository_url_whichever_spelling(check: ModuleType, tmp_path: Path) -> None:
    pyproject = poetry_table(
        a='{ git = "https://h/o/a.git", tag = "v1" }',
        b='{ git = "https://h/o/a", tag = "v1" }',
        c='{ git = "https://h/o/a/", tag = "v1" }',
        d='{ git = "https://h/o/b", tag = "v1" }',
        e='{ git = "https://h/o/aX", tag = "v1" }',
        f='{ git = "https://h/o/a.gi", tag = "v1" }',
    )
    lock = lock_file(("a", "https://h/o/a.git", "v1", "a" * 40), ("b", "https://h/o/b.git/", "v1", "b" * 40))
    assert [entry[:2] for entry in read(check, tmp_path, pyproject, lock)] == [
        ("a", "https://h/o/a.git"),
        ("d", "https://h/o/b"),
        ("e", "https://h/o/aX"),
        ("f", "https://h/o/a.gi"),
    ]


def test_a_project_without_git_dependencies_has_nothing_to_check(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    pyproject = write_project(tmp_path, "[project]\nname = 'x'\n", lock_file())
    result = run(check, capsys, "--pyproject", pyproject)
    assert (result.code, result.out, result.err) == (0, "no private git dependencies to check\n", "")
    assert shim.calls() == []


# --- malformed files: one clear line, exit 2 -----------------------------------------------

MALFORMED_PYPROJECTS = [
    ("tool = 1", "[tool] must be a table"),
    ("tool.poetry = []", "[tool.poetry] must be a table"),
    ("tool.poetry.dependencies = 'x'", "[tool.poetry.dependencies] must be a table"),
    ("tool.poetry.group = 1", "[tool.poetry.group] must be a table"),
    ("tool.poetry.group.dev = 1", "[tool.poetry.group.dev] must be a table"),
    ("tool.poetry.group.dev.dependencies = []", "[tool.poetry.group.dev.dependencies] must be a table"),
    ("tool.poetry.dependencies.a = { git = 1 }", "[tool.poetry.dependencies] a: git must be a string"),
    (
        "tool.poetry.group.x.dependencies.a = { git = 'https://h/o/a.git', tag = 1.5 }",
        "[tool.poetry.group.x.dependencies] a: tag must be a string",
    ),
    ("tool.poetry.dependencies.a = { git = 'https://h/o/a.git', rev = [] }", "a: rev must be a string"),
    ("tool.poetry.dependencies.a = { git = 'https://h/o/a.git', branch = {} }", "a: branch must be a string"),
    ("project = 'x'", "[project] must be a table"),
    ("project.dependencies = 'a @ git+https://h/o/a.git'", "[project].dependencies must be an array"),
    ("project.dependencies = [1]", "each of [project].dependencies must be a string"),
    ("project.optional-dependencies = []", "[project.optional-dependencies] must be a table"),
    ("project.optional-dependencies.x = 'y'", "[project.optional-dependencies].x must be an array"),
    ("project.optional-dependencies.x = [true]", "each of [project.optional-dependencies].x must be a string"),
    ("a = 1\nb = ", "pyproject.toml is not valid TOML: Invalid value (at end of document)"),
    ('a = 1\nb = "x\nc = 2', "pyproject.toml is not valid TOML: Illegal character '\\n' (at line 2, column 7)"),
    ("a = " + "[" * 5000 + "]" * 5000, "pyproject.toml is not valid TOML: maximum recursion depth exceeded"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED_PYPROJECTS)
@pytest.mark.parametrize("subcommand", [[], ["repositories", "--owner", "acme"]])
def test_a_malformed_pyproject_is_one_clear_line_and_exit_2(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shim: GitShim,
    content: str,
    message: str,
    subcommand: list[str],
) -> None:
    pyproject = write_project(tmp_path, content)
    result = run(check, capsys, *subcommand, "--pyproject", pyproject)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert message in result.err
    assert shim.calls() == []


MALFORMED_LOCKS = [
    ("package = {}", "poetry.lock [[package]] must be an array"),
    ("package = [1]", "poetry.lock [[package]] must be a table"),
    ("[[package]]\nname = 1", "poetry.lock package name must be a string"),
    ("[[package]]\nname = 'a'\nsource = 'git'", "poetry.lock package a: source must be a table"),
    ("[[package]]\nname = 'a'\nsource = { type = 'git', url = 2 }", "poetry.lock package a: source.url must be"),
    ("[[package]]\nname = 'a'\nsource = { type = 'git' }", "poetry.lock package a: source.url must be a string"),
    (
        "[[package]]\nname = 'a'\nsource = { type = 'git', url = 'https://h/o/a.git', reference = 1 }",
        "poetry.lock package a: source.reference must be a string",
    ),
    (
        "[[package]]\nsource = { type = 'git', url = 'https://h/o/a.git', resolved_reference = [] }",
        "poetry.lock package : source.resolved_reference must be a string",
    ),
    ("[[package]", "poetry.lock is not valid TOML"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED_LOCKS)
@pytest.mark.parametrize("subcommand", [["check"], ["fetch", "--host", "h", "--into", "mirrors"]])
def test_a_malformed_lock_is_one_clear_line_and_exit_2(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shim: GitShim,
    content: str,
    message: str,
    subcommand: list[str],
) -> None:
    pyproject = write_project(tmp_path, "", content)
    result = run(check, capsys, *subcommand, "--pyproject", pyproject)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert message in result.err
    assert shim.calls() == []


def test_unreadable_files_are_named_with_the_reason(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = run(check, capsys, "--pyproject", tmp_path / "nowhere" / "pyproject.toml")
    assert (missing.code, missing.out) == (2, "")
    assert (
        missing.err
        == f"error: {tmp_path / 'nowhere' / 'pyproject.toml'} not found: run this in the project's directory\n"
    )

    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "pyproject.toml").write_bytes(b"a = '\xff'\n")
    binary = run(check, capsys, "--pyproject", tmp_path / "binary" / "pyproject.toml")
    assert binary.code == 2
    assert binary.err.startswith(f"error: cannot read {tmp_path / 'binary' / 'pyproject.toml'}: 'utf-8' codec")

    (tmp_path / "folder" / "pyproject.toml").mkdir(parents=True)
    folder = run(check, capsys, "--pyproject", tmp_path / "folder" / "pyproject.toml")
    assert folder.code == 2
    assert folder.err == f"error: cannot read {tmp_path / 'folder' / 'pyproject.toml'}: [Errno 21] Is a directory: " + (
        f"'{tmp_path / 'folder' / 'pyproject.toml'}'\n"
    )


def test_a_lock_that_cannot_be_read_is_an_error_not_an_absent_lock(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }'))
    (tmp_path / "poetry.lock").mkdir()
    result = run(check, capsys, "--pyproject", pyproject)
    assert result.code == 2 and result.err.startswith(f"error: cannot read {tmp_path / 'poetry.lock'}: ")


# --- which URLs and refs reach git ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parts", "host", "repository"),
    [
        ("https://h.example/o/r.git", ("https", "", "h.example", "", "/o/r.git"), "h.example", "o/r"),
        ("https://127.0.0.1:8443/o/r", ("https", "", "127.0.0.1", "8443", "/o/r"), "127.0.0.1:8443", "o/r"),
        ("https://u:p-w@h/o/r.git/", ("https", "u:p-w", "h", "", "/o/r.git/"), "h", "o/r"),
        ("https://h/o/.github", ("https", "", "h", "", "/o/.github"), "h", "o/.github"),
        ("https://h:65535/a/b/c.git", ("https", "", "h", "65535", "/a/b/c.git"), "h:65535", "a/b/c"),
        ("https://h:1/~u/r.git", ("https", "", "h", "1", "/~u/r.git"), "h:1", "~u/r"),
        ("ssh://git@h:2222/o/r.git", ("ssh", "git", "h", "2222", "/o/r.git"), "h:2222", "o/r"),
        ("ssh://h/o/r.git", ("ssh", "", "h", "", "/o/r.git"), "h", "o/r"),
        ("git@h.example:o/r.git", ("scp", "git", "h.example", "", "o/r.git"), "h.example", "o/r"),
        ("deploy.user@h:/srv/r.git", ("scp", "deploy.user", "h", "", "/srv/r.git"), "h", "srv/r"),
        ("https://h/" + "a" * 990, ("https", "", "h", "", "/" + "a" * 990), "h", "a" * 990),
    ],
)
def test_supported_urls_are_taken_apart(
    check: ModuleType, url: str, parts: tuple[str, ...], host: str, repository: str
) -> None:
    assert len(url) <= 1000
    parsed = check.parse_url(url)
    assert (parsed.scheme, parsed.user, parsed.host_name, parsed.port, parsed.path) == parts
    assert (parsed.host, parsed.repository) == (host, repository)


UNSUPPORTED_URLS = [
    "",
    "--upload-pack=touch X;",
    "-x",
    "-",
    "ext::sh -c touch% /tmp/x",
    "file:///srv/o/r.git",
    "/srv/o/r.git",
    "../r.git",
    "http://h/o/r.git",
    "git://h/o/r.git",
    "HTTPS://h/o/r.git",
    "https://h",
    "https://h/",
    "https://h//r.git",
    "https://h/o/r.git?x=1",
    "https://h/o/r.git#x",
    "https://h/o r.git",
    "https://h/o/r.git\n",
    "https://h/o/\x1b[31mr.git",
    "https://h/o/\tr.git",
    "https://h/o/ré.git",
    "https://h/o/r\u202egit",
    "https://-h/o/r.git",
    "https://h-/o/r.git",
    "https://[::1]/o/r.git",
    "https://h:0/o/r.git",
    "https://h:65536/o/r.git",
    "https://h:123456/o/r.git",
    "https://h:/o/r.git",
    "https://h/o/../r.git",
    "https://h/./r.git",
    "https://h/o/..",
    "https://h/o/-r.git",
    "https://a@b@h/o/r.git",
    "https://h/" + "a" * 991,
    "ssh://-oProxyCommand=touch%20X/o/r.git",
    "ssh://git@-h/o/r.git",
    "git@-oProxyCommand=x:o/r.git",
    "git@h:-o/r.git",
    "-git@h:o/r.git",
    "git@h:",
    "h:o/r.git",
    "git@h:o/r.git:x",
    "git@h:o/../r.git",
]


@pytest.mark.parametrize("url", UNSUPPORTED_URLS)
def test_anything_else_is_not_a_supported_git_url(check: ModuleType, url: str) -> None:
    assert check.parse_url(url) is None
    dependency = check.Dependency("a", url, "v1", "tag")
    assert dependency.input_problem() == (
        "not a supported git URL",
        "write it as https://HOST/ORG/REPO.git, ssh://git@HOST/ORG/REPO.git or git@HOST:ORG/REPO.git in pyproject.toml",
    )


@pytest.mark.parametrize("ref", ["v1.0.0", "main", "feature/x", "release-1.2+b@3", "a" * 255, ".x", "0123abc"])
def test_ordinary_refs_are_accepted(check: ModuleType, ref: str) -> None:
    assert check.Dependency("a", "https://h/o/a.git", ref, "branch").input_problem() is None


@pytest.mark.parametrize("ref", ["-x", "--upload-pack=x", "a b", "v1\n", "v\x1b1", "é", "a" * 256, "a~1", "a:b", "*"])
def test_refs_git_could_misread_are_refused(check: ModuleType, ref: str) -> None:
    problem = check.Dependency("a", "https://h/o/a.git", ref, "tag", "poetry.lock").input_problem()
    assert problem == (
        "the tag is not a valid git ref",
        "name a tag, branch or commit (letters, digits and ._+@/-) in poetry.lock",
    )


@pytest.mark.parametrize(
    ("kind", "ref", "pattern"),
    [
        ("tag", "v1", "refs/tags/v1"),
        ("tag", "deadbeef", "refs/tags/deadbeef"),
        ("branch", "main", "refs/heads/main"),
        ("branch", "deadbeef", "refs/heads/deadbeef"),
        ("rev", "deadbeef-fix", "deadbeef-fix"),
        ("ref", "deadbeef-fix", "deadbeef-fix"),
        ("ref", "v1.0.0", "v1.0.0"),
        ("ref", "0123ab", "0123ab"),
        ("ref", "0123abc", ""),
        ("rev", "DEADBEEF", ""),
        ("ref", "a" * 40, ""),
        ("ref", "a" * 41, "a" * 41),
        ("ref", "g123abcd", "g123abcd"),
        ("", "", ""),
    ],
)
def test_only_7_to_40_hex_digits_are_a_commit(check: ModuleType, kind: str, ref: str, pattern: str) -> None:
    dependency = check.Dependency("a", "https://h/o/a.git", ref, kind)
    assert check.ls_remote_pattern(dependency) == pattern
    assert dependency.is_commit is (pattern == "" and bool(ref))


@pytest.mark.parametrize(
    ("spec", "argv"),
    [
        (
            '{ git = "https://h/o/a.git", tag = "v1" }',
            ["ls-remote", "--exit-code", "--", "https://h/o/a.git", "refs/tags/v1"],
        ),
        (
            '{ git = "git@h:o/a.git", branch = "x" }',
            ["ls-remote", "--exit-code", "--", "git@h:o/a.git", "refs/heads/x"],
        ),
        (
            '{ git = "ssh://h/o/a.git", rev = "deadbeef-fix" }',
            ["ls-remote", "--exit-code", "--", "ssh://h/o/a.git", "deadbeef-fix"],
        ),
        ('{ git = "https://h/o/a.git", rev = "deadbeef" }', ["ls-remote", "--", "https://h/o/a.git", "HEAD"]),
        ('{ git = "https://h/o/a.git" }', ["ls-remote", "--", "https://h/o/a.git", "HEAD"]),
    ],
)
def test_git_gets_the_url_after_double_dash_with_transports_limited(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shim: GitShim,
    monkeypatch: pytest.MonkeyPatch,
    spec: str,
    argv: list[str],
) -> None:
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ext:https:ssh")
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("SHIM_EXIT", "0")
    result = run(check, capsys, "--pyproject", write_project(tmp_path, poetry_table(a=spec)))
    assert result.code == 0
    (call,) = shim.calls()
    assert call.argv == argv
    assert call.env["GIT_ALLOW_PROTOCOL"] == "https:ssh"
    assert call.env["GIT_TERMINAL_PROMPT"] == "0"
    assert call.env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes"
    assert "GIT_OBJECT_DIRECTORY" not in call.env and "GIT_ALTERNATE_OBJECT_DIRECTORIES" not in call.env
    assert "CHECK_GIT_PASSWORD" not in call.env and "GIT_CONFIG_COUNT" not in call.env


def test_an_ssh_command_of_the_users_own_is_kept(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shim: GitShim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -F my-config")
    run(check, capsys, "--pyproject", write_project(tmp_path, poetry_table(a='{ git = "git@h:o/a.git" }')))
    assert [call.env["GIT_SSH_COMMAND"] for call in shim.calls()] == ["ssh -F my-config"]


def test_unsupported_urls_and_refs_never_reach_git(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    pyproject = poetry_table(
        a='{ git = "--upload-pack=touch X;", branch = "main" }',
        b='{ git = "ext::sh -c touch% X", tag = "v1" }',
        c='{ git = "https://h/o/c.git", tag = "--upload-pack=x" }',
    )
    result = run(check, capsys, "--pyproject", write_project(tmp_path, pyproject))
    assert result.code == 1 and shim.calls() == []
    assert result.lines() == [
        "FAIL  a  --upload-pack=touch X; @ main: not a supported git URL; fix: write it as https://HOST/ORG/REPO.git, "
        "ssh://git@HOST/ORG/REPO.git or git@HOST:ORG/REPO.git in pyproject.toml",
        "FAIL  b  ext::sh -c touch% X @ v1: not a supported git URL; fix: write it as https://HOST/ORG/REPO.git, "
        "ssh://git@HOST/ORG/REPO.git or git@HOST:ORG/REPO.git in pyproject.toml",
        "FAIL  c  https://h/o/c.git @ --upload-pack=x: the tag is not a valid git ref; fix: name a tag, branch or "
        "commit (letters, digits and ._+@/-) in pyproject.toml",
    ]
    assert result.err == "3 of 3 private dependencies unreachable\n"


def test_git_never_reads_this_terminal(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    """A prompt must fail at once, not wait for an answer in CI: git's stdin is /dev/null."""
    (shim.bin / "git").write_text('#!/bin/sh\nread -r line; printf "fatal: read %s\\n" "$line" >&2; exit 128\n')
    read_end, write_end = os.pipe()
    os.write(write_end, b"typed-answer\n")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        result = run(
            check, capsys, "--pyproject", write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }'))
        )
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_end)
    assert "typed-answer" not in result.out and "git failed: fatal: read; fix:" in result.out


def test_files_and_git_output_are_utf8_whatever_the_locale(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    """UTF-8 is read as UTF-8 under an ASCII locale too, and bytes that are not UTF-8 are shown."""
    (shim.bin / "git").write_text("#!/bin/sh\nprintf 'fatal: caf\\303\\251 \\377\\n' >&2\nexit 128\n")
    pyproject = write_project(tmp_path, poetry_table(**{'"café"': '{ git = "https://h/o/a.git" }'}))
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        result = run(check, capsys, "--pyproject", pyproject)
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
    assert result.lines() == [
        "FAIL  caf\\xe9  https://h/o/a.git: git failed: fatal: caf\\xe9 \\ufffd; fix: to see more, run: "
        "git ls-remote -- https://h/o/a.git"
    ]


def test_without_git_the_error_says_so(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run(check, capsys, "--pyproject", write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }')))
    assert (result.code, result.out, result.err) == (2, "", "error: cannot run git: No such file or directory\n")


# --- what is printed: no credential, no control character -----------------------------------


def test_printed_text_loses_every_credential_of_this_run(check: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # The password contains the token: the longer is cut first, or its tail would show.
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "zz-secret-zz")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_PASSWORD", "a-zz-secret-zz-b")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_USERNAME", "deploy-user")
    monkeypatch.setenv("POETRY_HTTP_BASIC_OTHER_PASSWORD", "")
    monkeypatch.setenv("SOME_PASSWORD", "not-a-credential-of-this-run")
    text = "a-zz-secret-zz-b zz-secret-zz deploy-user not-a-credential-of-this-run"
    assert check.clean(text) == "*** *** deploy-user not-a-credential-of-this-run"


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("fatal: https://user:pw@h/o/x.git failed", "fatal: https://***@h/o/x.git failed"),
        ("https://ghp_abc@h/o/x.git", "https://***@h/o/x.git"),
        ("https://a@b@h/x and https://h/y", "https://***@h/x and https://h/y"),
        ("ssh://git:pw@h/o/x.git", "ssh://git@h/o/x.git"),
        ("SSH://git:pw@h/o/x.git", "SSH://git@h/o/x.git"),
        ("ssh://git@h/o/x.git git@h:o/x.git", "ssh://git@h/o/x.git git@h:o/x.git"),
        ("git+https://u:p@h/x", "git+https://***@h/x"),
        (
            "red \x1b[31m bell \x07 nl \n cr \r tab \t del \x7f",
            "red \\x1b[31m bell \\x07 nl \\n cr \\r tab \\t del \\x7f",
        ),
        ("café \u202eevil \u200b zero", "caf\\xe9 \\u202eevil \\u200b zero"),
        ("plain text: a,b % c", "plain text: a,b % c"),
    ],
)
def test_printed_text_has_no_url_credentials_or_control_characters(check: ModuleType, text: str, cleaned: str) -> None:
    assert check.clean(text) == cleaned


def test_long_values_are_clipped_after_the_credentials_are_cut(
    check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check.clip("a" * 200) == "a" * 200
    assert check.clip("a" * 201) == "a" * 197 + "..."
    assert check.clip("abcdef", 5) == "ab..."
    token = new_token()
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", token)
    # The token straddles the 200th character: cut whole before clipping, never in part.
    shown = check.shown("x" * 190 + token)
    assert shown == "x" * 190 + "***" and token[:5] not in shown
    assert check.shown("\x1b" * 100) == "\\x1b" * 49 + "\\..."


def test_annotations_appear_only_in_github_actions_and_are_escaped(
    check: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "tok-123")
    check.annotate("a:b,c%", "50% of x, y: z tok-123\n::warning::w")
    monkeypatch.setenv("GITHUB_ACTIONS", "1")
    check.annotate("t", "m")
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    check.annotate("a:b,c%", "50% of x, y: z tok-123\n::warning::w")
    assert capsys.readouterr().out == "::error title=a%3Ab%2Cc%25::50%25 of x, y: z ***\\n::warning::w\n"


def test_errors_go_to_stderr_and_to_an_annotation(
    check: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    check.error("it broke: https://u:p@h/x")
    assert capsys.readouterr() == ("", "error: it broke: https://***@h/x\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    check.error("it broke")
    assert capsys.readouterr() == ("::error title=Private dependencies::it broke\n", "error: it broke\n")


# --- why git failed, in git's own words -----------------------------------------------------

HOST = "git.example:8443"
NO_CREDENTIALS = (
    f"no credentials: git has none for {HOST}",
    f"give git a credential for {HOST}: 'gh auth login --hostname {HOST}' then 'gh auth setup-git --hostname {HOST}', "
    "or a token, or SSH (see 'Getting access to the private repositories' in README.md)",
)
HOST_KEY = (
    "the SSH host key of git.example is not trusted yet",
    "run 'ssh -T git@git.example' once and accept the key only if it matches the host's published fingerprints",
)
SSH_DENIED = (
    "denied: git.example refused the SSH key",
    "add your public key to your account on git.example and authorize it for the organization",
)
DENIED = (
    f"denied: {HOST} refused the credentials (wrong, expired or not SSO-authorized token)",
    "create a new token that can read acme/x and store it again "
    "(see 'Getting access to the private repositories' in README.md)",
)
NOT_FOUND = (
    f"not found: acme/x does not exist on {HOST}, or these credentials cannot read it",
    "check the name in poetry.lock; ask an owner of acme for read access "
    "(a fine-grained token must list this repository)",
)
UNREACHABLE = (
    f"host unreachable: cannot connect to {HOST}",
    "check the network or VPN, and the host name in poetry.lock",
)
TLS = (
    f"TLS: the certificate of {HOST} is not trusted",
    "point git at your company CA: git config --global http.sslCAInfo /path/to/ca.pem",
)


@pytest.mark.parametrize(
    ("stderr", "problem"),
    [
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", NO_CREDENTIALS),
        ("fatal: could not read Username for 'https://h': No such device", NO_CREDENTIALS),
        ("fatal: could not read Password for 'https://u@h': No such device", NO_CREDENTIALS),
        ("Host key verification failed.\nfatal: Could not read from remote repository.", HOST_KEY),
        ("git@git.example: Permission denied (publickey).", SSH_DENIED),
        ("remote: Invalid username or password.\nfatal: Authentication failed for 'x'", DENIED),
        ("fatal: Authentication failed for 'https://h/acme/x.git/'", DENIED),
        ("error: The requested URL returned error: 401", DENIED),
        ("error: The requested URL returned error: 403", DENIED),
        ("ERROR: Access denied.", DENIED),
        ("remote: Repository not found.\nfatal: repository 'https://h/acme/x.git/' not found", NOT_FOUND),
        ("error: The requested URL returned error: 404", NOT_FOUND),
        ("fatal: 'acme/x.git' does not appear to be a git repository", NOT_FOUND),
        ("ERROR: Repository does not exist", NOT_FOUND),
        ("fatal: unable to access: Could not resolve host: git.example", UNREACHABLE),
        ("fatal: unable to access: Failed to connect to git.example port 8443", UNREACHABLE),
        ("ssh: connect to host git.example port 22: Connection refused", UNREACHABLE),
        ("ssh: connect to host git.example port 22: Connection timed out", UNREACHABLE),
        ("ssh: connect to host git.example port 22: Network is unreachable", UNREACHABLE),
        ("fatal: unable to access: Couldn't connect to server", UNREACHABLE),
        ("ssh: connect to host git.example port 22: No route to host", UNREACHABLE),
        ("fatal: unable to access: SSL certificate problem: unable to get local issuer certificate", TLS),
        ("fatal: unable to access: server certificate verification failed", TLS),
        ("fatal: unable to access: self-signed certificate in certificate chain", TLS),
    ],
)
def test_each_git_failure_gets_its_reason_and_fix(check: ModuleType, stderr: str, problem: tuple[str, str]) -> None:
    dependency = check.Dependency("x", f"https://{HOST}/acme/x.git", "v1", "ref", "poetry.lock")
    assert check.diagnose(dependency, check.parse_url(dependency.url), stderr) == problem


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("warning: first\nfatal: the last line \x1b[2J counts\n\n", "git failed: fatal: the last line \\x1b[2J counts"),
        ("", "git failed: no message"),
        ("  \n", "git failed: no message"),
        ("fatal: " + "x" * 300, "git failed: fatal: " + "x" * 190 + "..."),
    ],
)
def test_other_failures_show_git_s_last_line_and_a_command_to_paste(
    check: ModuleType, stderr: str, reason: str
) -> None:
    dependency = check.Dependency("x", "ssh://git:pw@h/~u/x.git", "v1", "tag")
    assert check.diagnose(dependency, check.parse_url(dependency.url), stderr) == (
        reason,
        "to see more, run: git ls-remote -- 'ssh://git@h/~u/x.git'",
    )
    https = check.Dependency("x", "https://user:pw@h/o/x.git")
    assert check.diagnose(https, check.parse_url(https.url), "")[1] == (
        "to see more, run: git ls-remote -- 'https://***@h/o/x.git'"
    )


# --- credentials: git's own, or exactly one URL's -------------------------------------------


def test_poetry_http_basic_variables_give_their_exact_url_a_credential(
    check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://h/acme/core-lib.git"
    monkeypatch.setenv("POETRY_REPOSITORIES_PRIVATE_A_URL", url)
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_USERNAME", "deploy")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_PASSWORD", "pw-a")
    monkeypatch.setenv("POETRY_REPOSITORIES_PRIVATE_B_URL", "https://h/acme/app-lib.git")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_B_PASSWORD", "pw-b")
    monkeypatch.setenv("POETRY_REPOSITORIES_NO_PASSWORD_URL", "https://h/acme/empty.git")
    monkeypatch.setenv("POETRY_HTTP_BASIC_NO_PASSWORD_USERNAME", "someone")
    monkeypatch.setenv("POETRY_REPOSITORIES_DIGIT1_URL", "https://h/acme/digit.git")  # Poetry ignores such names
    monkeypatch.setenv("POETRY_HTTP_BASIC_DIGIT1_PASSWORD", "pw-d")
    monkeypatch.setenv("POETRY_REPOSITORIES_PRIVATE_C_URLS", "https://h/acme/near.git")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_C_PASSWORD", "pw-c")
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "the-token")
    assert check.credential_for(url, "") == ("deploy", "pw-a")
    assert check.credential_for("https://h/acme/app-lib.git", "") == ("", "pw-b")
    for other in (
        "https://h/acme/core-lib",
        "https://h/acme/empty.git",
        "https://h/acme/digit.git",
        "https://h/acme/near.git",
    ):
        assert check.credential_for(other, "") is None, other


def test_the_token_goes_to_exact_https_urls_on_its_host_only(
    check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POETRY_REPOSITORIES_A_URL", "https://h:1/acme/poetry.git")
    monkeypatch.setenv("POETRY_HTTP_BASIC_A_PASSWORD", "pw-a")
    assert check.credential_for("https://h:1/acme/x.git", "h:1") is None  # no token in this run
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "the-token")
    assert check.credential_for("https://h:1/acme/x.git", "h:1") == ("x-access-token", "the-token")
    assert check.credential_for("https://H:1/acme/x", "h:1") == ("x-access-token", "the-token")
    assert check.credential_for("https://h:1/acme/poetry.git", "H:1") == ("x-access-token", "the-token")
    assert check.credential_for("https://h:1/acme/poetry.git", "") == ("", "pw-a")
    for elsewhere in (
        "https://h/acme/x.git",
        "https://h:2/acme/x.git",
        "https://xxxx/acme/x.git",
        "https://evil.h:1/acme/x.git",
        "ssh://h:1/acme/x.git",
        "git@h:acme/x.git",
        "https://u@h:1/acme/x.git",
        "--upload-pack=x",
    ):
        assert check.credential_for(elsewhere, "h:1") is None, elsewhere
        assert check.credential_for(elsewhere, "") is None, elsewhere


def test_the_helper_for_one_url_is_added_after_the_callers_git_config(
    check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "the-token")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    env = check.credential_environment("https://h/acme/x.git", "h")
    helper = (
        '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
        '"$CHECK_GIT_USERNAME" "$CHECK_GIT_PASSWORD"; }; f'
    )
    assert {key: value for key, value in env.items() if re.match("GIT_CONFIG_(COUNT|KEY|VALUE)|CHECK_GIT", key)} == {
        "CHECK_GIT_USERNAME": "x-access-token",
        "CHECK_GIT_PASSWORD": "the-token",
        "GIT_CONFIG_COUNT": "4",
        "GIT_CONFIG_KEY_2": "credential.https://h/acme/x.git.helper",
        "GIT_CONFIG_VALUE_2": "",
        "GIT_CONFIG_KEY_3": "credential.https://h/acme/x.git.helper",
        "GIT_CONFIG_VALUE_3": helper,
    }
    monkeypatch.delenv("GIT_CONFIG_COUNT")
    assert check.credential_environment("https://h/acme/x.git", "h")["GIT_CONFIG_KEY_1"].endswith("x.git.helper")
    assert "CHECK_GIT_PASSWORD" not in check.credential_environment("https://h/acme/x.git", "")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "two")
    with pytest.raises(check.InputError, match="^GIT_CONFIG_COUNT must be a number, not 'two'$"):
        check.credential_environment("https://h/acme/x.git", "h")


def test_the_helper_answers_for_its_url_and_no_other(
    check: ModuleType, server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", server.token)
    env = check.credential_environment(server.url("core-lib"), server.host)
    for url, expected in ((server.url("core-lib"), 0), (server.url("app-lib"), 128)):
        listed = subprocess.run(["git", "ls-remote", "--", url], env=env, capture_output=True, text=True)
        assert listed.returncode == expected, listed.stderr
    requests = server.take_requests()
    assert {r.repository for r in requests if r.authenticated} == {"acme/core-lib"}
    assert {r.repository for r in requests if not r.authenticated} >= {"acme/app-lib"}


# --- check: a person's run ------------------------------------------------------------------


def test_check_reports_each_dependency_reachable_with_git_s_own_credentials(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    pyproject = poetry_table(**{"app-lib": f'{{ git = "{server.url("app-lib")}", tag = "v1.0.0" }}'})
    pyproject += f'[project]\ndependencies = ["core @ git+{server.url("core-lib")}@main"]\n'
    lock = lock_file(
        ("app-lib", server.url("app-lib"), "v1.0.0", commit_of(server, "app-lib")),
        ("core-lib", server.url("core-lib").removesuffix(".git"), "v1.0.0", commit_of(server, "core-lib")),
        ("pinned", server.url("core-lib") + "/", commit_of(server, "core-lib"), commit_of(server, "core-lib")),
    )
    result = run(check, capsys, "--pyproject", write_project(tmp_path, pyproject, lock))
    assert (result.code, result.err) == (0, "")
    app, core = commit_of(server, "app-lib")[:12], commit_of(server, "core-lib")[:12]
    assert result.lines() == [
        f"ok    app-lib  reachable: {server.url('app-lib')} @ v1.0.0, locked commit {app} present",
        f"ok    core     reachable: {server.url('core-lib')} @ main, locked commit {core}, {core} present",
    ]
    assert {r.repository for r in server.take_requests() if r.status == 200} == {"acme/app-lib", "acme/core-lib"}


CHECK_CASES = {
    "missing tag": (
        '{{ git = "{core}", tag = "v9" }}',
        "FAIL  a  {core} @ v9: tag 'v9' does not exist in acme/core-lib; "
        "fix: check the tag in pyproject.toml against the repository",
    ),
    "a tag named as a branch": (
        '{{ git = "{core}", branch = "v1.0.0" }}',
        "FAIL  a  {core} @ v1.0.0: branch 'v1.0.0' does not exist in acme/core-lib; "
        "fix: check the branch in pyproject.toml against the repository",
    ),
    "a rev that is a branch name": (
        '{{ git = "{core}", rev = "deadbeef-fix" }}',
        "FAIL  a  {core} @ deadbeef-fix: rev 'deadbeef-fix' does not exist in acme/core-lib; "
        "fix: check the rev in pyproject.toml against the repository",
    ),
    "a rev that is a commit": ('{{ git = "{core}", rev = "deadbeef" }}', "ok    a  reachable: {core} @ deadbeef"),
    "a branch": ('{{ git = "{core}", branch = "main" }}', "ok    a  reachable: {core} @ main"),
    "no ref": ('{{ git = "{core}" }}', "ok    a  reachable: {core}"),
    "unreadable": (
        '{{ git = "{secret}", tag = "v1.0.0" }}',
        "FAIL  a  {secret} @ v1.0.0: not found: acme/secret-lib does not exist on {host}, or these credentials cannot "
        "read it; fix: check the name in pyproject.toml; ask an owner of acme for read access (a fine-grained token "
        "must list this repository)",
    ),
    "nobody listening": (
        '{{ git = "https://127.0.0.1:1/acme/gone-lib.git", tag = "v1.0.0" }}',
        "FAIL  a  https://127.0.0.1:1/acme/gone-lib.git @ v1.0.0: host unreachable: cannot connect to 127.0.0.1:1; "
        "fix: check the network or VPN, and the host name in pyproject.toml",
    ),
    "nobody answering": (
        '{{ git = "https://127.0.0.1:{silent}/acme/slow-lib.git" }}',
        "FAIL  a  https://127.0.0.1:{silent}/acme/slow-lib.git: host unreachable: no answer from 127.0.0.1:{silent} "
        "in 1.5 s; fix: check the network or VPN",
    ),
}
PEP508_CASES = {
    "a ref that is a branch name": (
        "{app}@deadbeef-fix",
        "FAIL  a  {app} @ deadbeef-fix: ref 'deadbeef-fix' does not exist in acme/app-lib; "
        "fix: check the ref in pyproject.toml against the repository",
    ),
    "a ref that is a commit": ("{app}@deadbeef", "ok    a  reachable: {app} @ deadbeef"),
    "a ref that is a tag": ("{app}@v1.0.0", "ok    a  reachable: {app} @ v1.0.0"),
    "a ref that is a branch": ("{app}@main", "ok    a  reachable: {app} @ main"),
}


@pytest.mark.parametrize("case", [*CHECK_CASES, *PEP508_CASES])
def test_check_says_for_each_dependency_whether_and_why_not(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    silent_port: int,
    case: str,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    names = {
        "core": server.url("core-lib"),
        "app": server.url("app-lib"),
        "secret": server.url("secret-lib"),
        "host": server.host,
        "silent": silent_port,
    }
    if case in CHECK_CASES:
        spec, expected = CHECK_CASES[case]
        pyproject = poetry_table(a=spec.format(**names))
    else:
        reference, expected = PEP508_CASES[case]
        pyproject = f'[project]\ndependencies = ["a @ git+{reference.format(**names)}"]\n'
    result = run(check, capsys, "--pyproject", write_project(tmp_path, pyproject), "--timeout", "1.5")
    assert result.lines() == [expected.format(**names)]
    failed = expected.startswith("FAIL")
    assert (result.code, result.err) == (1, "1 of 1 private dependencies unreachable\n") if failed else (0, "")


def test_check_lines_align_and_failures_become_annotations_in_github_actions(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pyproject = poetry_table(**{"core-lib": f'{{ git = "{server.url("core-lib")}", tag = "v1.0.0" }}'})
    lock = lock_file(("app", server.url("app-lib"), "v9", "f" * 40))
    result = run(check, capsys, "--pyproject", write_project(tmp_path, pyproject, lock))
    problem = "ref 'v9' does not exist in acme/app-lib; fix: check the ref in poetry.lock against the repository"
    assert result.lines() == [
        f"ok    core-lib  reachable: {server.url('core-lib')} @ v1.0.0",
        f"FAIL  app       {server.url('app-lib')} @ v9: {problem}",
        f"::error title=Cannot reach app::{problem}",
    ]
    assert (result.code, result.err) == (1, "1 of 2 private dependencies unreachable\n")


def test_check_without_credentials_or_with_a_wrong_token_says_which(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pyproject = write_project(tmp_path, poetry_table(a=f'{{ git = "{server.url("core-lib")}", tag = "v1.0.0" }}'))
    none = run(check, capsys, "--pyproject", pyproject)
    assert none.lines() == [
        f"FAIL  a  {server.url('core-lib')} @ v1.0.0: no credentials: git has none for {server.host}; fix: give git a "
        f"credential for {server.host}: 'gh auth login --hostname {server.host}' then 'gh auth setup-git --hostname "
        f"{server.host}', or a token, or SSH (see 'Getting access to the private repositories' in README.md)"
    ]
    wrong = new_token()
    host_wide_credential(monkeypatch, server, wrong)
    denied = run(check, capsys, "--pyproject", pyproject)
    assert denied.code == 1 and denied.lines()[0].endswith(
        f"denied: {server.host} refused the credentials (wrong, expired or not SSO-authorized token); fix: create a "
        "new token that can read acme/core-lib and store it again (see 'Getting access to the private repositories' "
        "in README.md)"
    )
    assert wrong not in denied.out + denied.err


def test_check_over_tls_it_does_not_trust_says_tls(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIT_SSL_CAINFO")
    monkeypatch.delenv("SSL_CERT_FILE")
    result = run(
        check, capsys, "--pyproject", write_project(tmp_path, poetry_table(a=f'{{ git = "{server.url("core-lib")}" }}'))
    )
    assert result.lines() == [
        f"FAIL  a  {server.url('core-lib')}: TLS: the certificate of {server.host} is not trusted; fix: point git at "
        "your company CA: git config --global http.sslCAInfo /path/to/ca.pem"
    ]


def test_check_uses_poetry_s_per_repository_credentials_for_their_exact_urls(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POETRY_REPOSITORIES_PRIVATE_A_URL", server.url("core-lib"))
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_USERNAME", "x-access-token")
    monkeypatch.setenv("POETRY_HTTP_BASIC_PRIVATE_A_PASSWORD", server.token)
    pyproject = poetry_table(
        a=f'{{ git = "{server.url("core-lib")}", tag = "v1.0.0" }}',
        b=f'{{ git = "{server.url("core-lib").removesuffix(".git")}", tag = "v1.0.0" }}',
    )
    (tmp_path / "b").mkdir()
    result_a = run(
        check, capsys, "--pyproject", write_project(tmp_path / "a", poetry_table(a=pyproject.splitlines()[2][4:]))
    )
    result_b = run(
        check, capsys, "--pyproject", write_project(tmp_path / "b", poetry_table(b=pyproject.splitlines()[3][4:]))
    )
    assert result_a.lines() == [f"ok    a  reachable: {server.url('core-lib')} @ v1.0.0"]
    assert "no credentials" in result_b.out  # Poetry's URL must match exactly; so must this
    assert server.token not in result_a.out + result_b.out + result_a.err + result_b.err


def test_check_is_the_default_and_reads_sys_argv(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
) -> None:
    write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }'))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIM_EXIT", "0")
    monkeypatch.setattr(sys, "argv", ["check_private_deps.py", "--timeout", "5"])
    for argv in (None, [], ["check"], ["--timeout", "5"]):
        shim.reset()
        assert check.main(argv) == 0
        assert capsys.readouterr().out == "ok    a  reachable: https://h/o/a.git\n"
        assert [call.argv[-2] for call in shim.calls()] == ["https://h/o/a.git"]


# --- preflight: CI's check ------------------------------------------------------------------

MISSING_SECRET = (
    "the secret {0} is not available to this run, so the private dependencies cannot be installed. Pull request "
    "from a fork: GitHub passes no secrets to it; push the branch to this repository instead. Dependabot run: it "
    "sees only Dependabot secrets; create a Dependabot secret named {0} as well. Otherwise: create the "
    "organization secret {0} and give this repository access to it."
)


@pytest.mark.parametrize("token", [None, ""])
def test_preflight_without_the_token_names_the_secret_and_runs_nothing(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
    token: str | None,
) -> None:
    if token is not None:
        monkeypatch.setenv("PRIVATE_GIT_TOKEN", token)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pyproject = write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }'))
    result = run(check, capsys, "preflight", "--secret", "ORG_TOKEN", "--pyproject", pyproject)
    message = MISSING_SECRET.format("ORG_TOKEN")
    assert (result.code, result.out, result.err) == (
        1,
        f"::error title=Private dependencies::{message}\n",
        f"error: {message}\n",
    )
    assert shim.calls() == []


def test_preflight_with_the_token_checks_every_dependency(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    pyproject = poetry_table(
        a=f'{{ git = "{server.url("core-lib")}", tag = "v1.0.0" }}', b=f'{{ git = "{server.url("secret-lib")}" }}'
    )
    result = run(check, capsys, "preflight", "--secret", "S", "--pyproject", write_project(tmp_path, pyproject))
    assert result.code == 1
    assert result.lines()[0] == f"ok    a  reachable: {server.url('core-lib')} @ v1.0.0"
    assert result.lines()[1].startswith(f"FAIL  b  {server.url('secret-lib')}: not found: acme/secret-lib")
    assert result.err == "1 of 2 private dependencies unreachable\n"


def test_preflight_per_repository_credential_gives_the_token_to_each_listed_url(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", server.token)
    pyproject = poetry_table(app=f'{{ git = "{server.url("app-lib")}", tag = "v1.0.0" }}')
    lock = lock_file(("core-lib", server.url("core-lib").removesuffix(".git"), "v1.0.0", commit_of(server, "core-lib")))
    argv = ["preflight", "--secret", "S", "--pyproject", write_project(tmp_path, pyproject, lock)]
    result = run(check, capsys, *argv, "--per-repository-credential", "--host", server.host)
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines() == [
        f"ok    app       reachable: {server.url('app-lib')} @ v1.0.0",
        f"ok    core-lib  reachable: {server.url('core-lib').removesuffix('.git')} @ v1.0.0",
    ]
    assert {r.repository for r in server.take_requests() if r.authenticated} == {"acme/app-lib", "acme/core-lib"}
    # Without the flag, git's own configuration answers: here, nothing.
    assert "no credentials" in run(check, capsys, *argv).out
    assert server.token not in result.out + result.err


def test_without_the_flag_git_never_gets_the_token(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "the-token")
    hosts = ("h", "xxxx", "127.0.0.1:1")
    pyproject = poetry_table(
        **{f"lib{i}": f'{{ git = "https://{host}/acme/lib{i}.git" }}' for i, host in enumerate(hosts)}
    )
    lock = lock_file(*((f"lib{i}", f"https://{host}/acme/lib{i}.git", "v1", "7" * 40) for i, host in enumerate(hosts)))
    project = write_project(tmp_path / "p", pyproject, lock)
    run(check, capsys, "--pyproject", project)
    run(check, capsys, "preflight", "--secret", "S", "--pyproject", project)
    run(check, capsys, "preflight", "--secret", "S", "--host", "h", "--pyproject", project)
    for host in hosts:
        run(check, capsys, "fetch", "--host", host, "--into", tmp_path / host, "--pyproject", project)
    calls = shim.calls()
    # Three checks of three repositories; per fetch, the repository made and its one fetch, which
    # fails (the shim), so nothing more.
    assert len(calls) == 3 * 3 + 3 * 2
    assert [call for call in calls if "CHECK_GIT_PASSWORD" in call.env or "GIT_CONFIG_COUNT" in call.env] == []


def test_preflight_waits_no_longer_than_the_timeout(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    silent_port: int,
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "the-token")
    pyproject = write_project(tmp_path, poetry_table(a=f'{{ git = "https://127.0.0.1:{silent_port}/o/a.git" }}'))
    result = run(check, capsys, "preflight", "--secret", "S", "--timeout", "0.5", "--pyproject", pyproject)
    assert result.lines()[0].endswith(f"no answer from 127.0.0.1:{silent_port} in 0.5 s; fix: check the network or VPN")


def test_preflight_per_repository_credential_needs_the_host(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    pyproject = write_project(tmp_path, poetry_table(a='{ git = "https://h/o/a.git" }'))
    result = run(check, capsys, "preflight", "--secret", "S", "--per-repository-credential", "--pyproject", pyproject)
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: --per-repository-credential needs --host HOST: the token goes to that host only\n"
    assert shim.calls() == []


def test_preflight_in_ssh_mode_needs_an_agent_not_a_token(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
) -> None:
    pyproject = write_project(tmp_path, poetry_table(a='{ git = "git@h:o/a.git" }'))
    argv = ["preflight", "--ssh", "--secret", "SSH_PRIVATE_KEY", "--pyproject", pyproject]
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "a-token-is-not-an-agent")
    (tmp_path / "not-a-socket").write_text("")
    for socket_path in (None, "", str(tmp_path / "gone.sock"), str(tmp_path / "not-a-socket")):
        if socket_path is not None:
            monkeypatch.setenv("SSH_AUTH_SOCK", socket_path)
        result = run(check, capsys, *argv)
        assert (result.code, result.err) == (1, f"error: {MISSING_SECRET.format('SSH_PRIVATE_KEY')}\n"), socket_path
    assert shim.calls() == []

    monkeypatch.setenv("SHIM_EXIT", "0")
    monkeypatch.delenv("PRIVATE_GIT_TOKEN")
    # A short path: a socket's name has a length limit that pytest's directories can exceed.
    with tempfile.TemporaryDirectory(dir="/tmp") as short, socket.socket(socket.AF_UNIX) as agent:
        agent.bind(f"{short}/agent.sock")
        monkeypatch.setenv("SSH_AUTH_SOCK", f"{short}/agent.sock")
        result = run(check, capsys, *argv)
    assert (result.code, result.out) == (0, "ok    a  reachable: git@h:o/a.git\n")


def test_preflight_with_nothing_to_install_needs_no_secret(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write_project(tmp_path, "[project]\nname = 'x'\n")
    result = run(check, capsys, "preflight", "--secret", "S", "--pyproject", pyproject)
    assert (result.code, result.out, result.err) == (0, "no private git dependencies to check\n", "")


# --- repositories: what a GitHub App token must read ---------------------------------------


def test_repositories_lists_the_lock_s_and_pyproject_s_repositories_once(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    pyproject = poetry_table(
        b='{ git = "https://h/acme/b-lib.git", tag = "v1" }',
        a='{ git = "https://h/Acme/a-lib", tag = "v1" }',
    )
    pyproject += '[project]\ndependencies = ["s @ git+ssh://git@h/acme/ssh-lib.git@v1"]\n'
    lock = lock_file(
        ("b", "https://h/acme/b-lib.git", "v1", "a" * 40), ("c", "https://h/acme/c.lib.git", "v1", "b" * 40)
    )
    result = run(
        check, capsys, "repositories", "--owner", "ACME", "--pyproject", write_project(tmp_path, pyproject, lock)
    )
    assert (result.code, result.out, result.err) == (0, "a-lib,b-lib,c.lib,ssh-lib\n", "")
    assert shim.calls() == []


def test_repositories_refuses_what_the_app_token_cannot_reach(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = poetry_table(
        ok='{ git = "https://h/acme/ok.git" }',
        other='{ git = "https://h/other-org/c.git" }',
        deep='{ git = "https://h/acme/group/c.git" }',
        top='{ git = "https://h/c.git" }',
        odd='{ git = "https://h/acme/c%20d.git" }',
        bad='{ git = "--upload-pack=x" }',
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run(check, capsys, "repositories", "--owner", "acme", "--pyproject", write_project(tmp_path, pyproject))
    assert result.code == 1
    assert result.err.splitlines() == [
        "error: other lives in other-org/c, but the GitHub App token reaches only acme's repositories; move the "
        "dependency, or use git_auth 'token' or 'ssh'",
        "error: deep: https://h/acme/group/c.git names no ORG/REPO",
        "error: top: https://h/c.git names no ORG/REPO",
        "error: odd: https://h/acme/c%20d.git names no ORG/REPO",
        "error: bad: not a supported git URL, write it as https://HOST/ORG/REPO.git, ssh://git@HOST/ORG/REPO.git or "
        "git@HOST:ORG/REPO.git",
    ]
    assert result.out.count("::error title=Private dependencies::") == 5
    assert [line for line in result.lines() if not line.startswith("::error ")] == []


def test_repositories_of_a_project_without_git_dependencies_is_an_empty_line(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(check, capsys, "repositories", "--owner", "acme", "--pyproject", write_project(tmp_path, ""))
    assert (result.code, result.out, result.err) == (0, "\n", "")


@dataclass
class Moving:
    """A repository of this test's own on the server, tagged v1.0.0, whose history can change."""

    url: str
    bare: Path
    work: Path

    def git(self, *arguments: str, where: Path | None = None) -> str:
        command = ["git", *arguments]
        result = subprocess.run(command, cwd=where or self.work, env=git_env(), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def commit(self, message: str, *options: str) -> str:
        (self.work / "pyproject.toml").write_text(
            '[project]\nname = "moving-lib"\nversion = "1.0.0"\n\n[build-system]\nrequires = ["poetry-core>=2.0,<3"]\n'
            f'build-backend = "poetry.core.masonry.api"\n# {message}\n'
        )
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, *options)
        return self.git("rev-parse", "HEAD")

    def retag(self, rewrite_history: bool = False) -> str:
        """Move v1.0.0 to a new commit on the server's main; with `rewrite_history`, main starts
        over and the server forgets the old commit. Returns the new commit."""
        if rewrite_history:
            self.git("checkout", "-q", "--orphan", "rewritten")
        commit = self.commit("second")
        self.git("tag", "-f", "v1.0.0")
        self.git("push", "-q", "--force", str(self.bare), "HEAD:main", "+refs/tags/v1.0.0")
        self.git("reflog", "expire", "--expire=now", "--all", where=self.bare)
        self.git("gc", "-q", "--prune=now", where=self.bare)
        return commit


@pytest.fixture
def moving(server: GitServer, tmp_path: Path) -> Moving:
    work = tmp_path / "moving-lib"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], env=git_env(), check=True)
    repository = Moving("", Path(), work)
    repository.commit("first")
    repository.git("tag", "v1.0.0")
    name = f"moving-{tmp_path.name}".replace("_", "-")
    return Moving(server.publish(work, name), server.root / server.org / f"{name}.git", work)


STALE_LOCKS = {
    # History rewritten and the tag moved with it: the old commit is gone from the server.
    "commit gone": "the locked commit {locked} of m is not in acme/{repo} (moved or force-pushed since the lock)",
    # The old commit stays reachable from main, so only the tag tells that the lock is stale;
    # a branch that moved on is what a branch does, and is not reported.
    "tag re-pointed": "tag 'v1.0.0' of m now names commit {now}, poetry.lock holds {locked}",
}


@pytest.mark.parametrize("case", STALE_LOCKS)
def test_check_names_a_stale_locked_commit_and_the_command_that_refreshes_it(
    check: ModuleType,
    server: GitServer,
    moving: Moving,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    locked = moving.git("rev-parse", "v1.0.0")
    pyproject = write_project(
        tmp_path / "p",
        poetry_table(m=f'{{ git = "{moving.url}", tag = "v1.0.0" }}'),
        lock_file(("m", moving.url, "v1.0.0", locked), ("m-branch", moving.url, "main", locked)),
    )
    now = moving.retag(rewrite_history=case == "commit gone")
    result = run(check, capsys, "--pyproject", pyproject)
    why = STALE_LOCKS[case].format(locked=locked[:12], now=now[:12], repo=moving.bare.stem)
    assert result.lines() == [
        f"FAIL  m  {moving.url} @ v1.0.0: {why}; fix: run poetry lock --regenerate and commit poetry.lock"
    ]
    assert (result.code, result.err) == (1, "1 of 1 private dependencies unreachable\n")


def test_check_accepts_a_locked_commit_its_branch_has_moved_past(
    check: ModuleType,
    server: GitServer,
    moving: Moving,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    locked = moving.git("rev-parse", "v1.0.0")
    moving.commit("second")
    moving.git("push", "-q", str(moving.bare), "main")
    # No branch or tag points at the locked commit any more: only the mirror can tell it is there.
    pyproject = write_project(
        tmp_path / "p",
        poetry_table(m=f'{{ git = "{moving.url}", branch = "main" }}'),
        lock_file(("m", moving.url, "main", locked)),
    )
    result = run(check, capsys, "--pyproject", pyproject)
    assert result.lines() == [f"ok    m  reachable: {moving.url} @ main, locked commit {locked[:12]} present"]
    assert result.code == 0


@pytest.mark.slow
def test_the_fix_the_check_prints_for_a_stale_lock_refreshes_it_with_real_poetry(
    check: ModuleType,
    server: GitServer,
    moving: Moving,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    # This test's HOME, git settings and credential (set above), and a Poetry of its own settings.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("POETRY_", "VIRTUAL_ENV"))}
    env.update(POETRY_CONFIG_DIR=str(tmp_path / "poetry-config"), POETRY_CACHE_DIR=str(tmp_path / "poetry-cache"))

    def poetry(*arguments: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "poetry", *arguments], cwd=pyproject.parent, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr

    pyproject = write_project(
        tmp_path / "p",
        '[project]\nname = "p"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndynamic = ["dependencies"]\n\n'
        "[tool.poetry]\npackage-mode = false\n\n"
        + poetry_table(**{"moving-lib": f'{{ git = "{moving.url}", tag = "v1.0.0" }}'}),
    )
    poetry("lock")
    moving.retag()

    def check_line() -> str:
        return run(check, capsys, "--pyproject", pyproject).lines()[0]

    assert check_line().startswith("FAIL") and "run poetry lock --regenerate" in check_line()
    poetry("lock")
    assert check_line().startswith("FAIL"), "a plain poetry lock keeps the locked commit"
    poetry("lock", "--regenerate")
    now = moving.git("rev-parse", "HEAD")[:12]
    assert check_line() == f"ok    moving-lib  reachable: {moving.url} @ v1.0.0, locked commit {now} present"


# --- fetch: CI's mirrors of the locked sources ---------------------------------------------


@pytest.fixture
def locked(server: GitServer, tmp_path: Path) -> Path:
    """A project whose lock holds app-lib and, transitively, core-lib (written without .git),
    plus sources on another host and over SSH that fetch must leave alone."""
    pyproject = poetry_table(**{"app-lib": f'{{ git = "{server.url("app-lib")}", tag = "v1.0.0" }}'})
    lock = lock_file(
        ("app-lib", server.url("app-lib"), "v1.0.0", commit_of(server, "app-lib")),
        ("core-lib", server.url("core-lib").removesuffix(".git"), "v1.0.0", commit_of(server, "core-lib")),
        ("app-docs", server.url("app-lib") + "/", "v1.0.0", commit_of(server, "app-lib")),
        ("elsewhere", "https://git.elsewhere.example/acme/elsewhere.git", "v2", "d" * 40),
        ("over-ssh", f"ssh://git@{server.host.split(':')[0]}/acme/core-lib.git", "v1.0.0", "e" * 40),
    )
    return write_project(tmp_path / "project", pyproject, lock)


def fetch_lines(server: GitServer, into: Path) -> list[str]:
    other = "https://git.elsewhere.example/acme/elsewhere.git @ v2"
    ssh = f"ssh://git@{server.host.split(':')[0]}/acme/core-lib.git @ v1.0.0"
    return [
        f"ok    app-lib    {server.url('app-lib')} @ v1.0.0: locked commit {commit_of(server, 'app-lib')[:12]} "
        f"fetched into {into}/acme/app-lib.git, without history",
        f"ok    core-lib   {server.url('core-lib').removesuffix('.git')} @ v1.0.0: locked commit "
        f"{commit_of(server, 'core-lib')[:12]} fetched into {into}/acme/core-lib.git, without history",
        f"skip  elsewhere  {other}: not on {server.host}: Poetry fetches it itself, without this credential",
        f"skip  over-ssh   {ssh}: not on {server.host}: Poetry fetches it itself, without this credential",
    ]


@pytest.mark.parametrize("per_repository", [False, True])
def test_fetch_mirrors_each_locked_source_on_the_host_where_the_install_looks(
    check: ModuleType,
    server: GitServer,
    locked: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    per_repository: bool,
) -> None:
    if per_repository:
        monkeypatch.setenv("PRIVATE_GIT_TOKEN", server.token)
    else:
        host_wide_credential(monkeypatch, server, server.token)
    into = tmp_path / "mirrors"
    flag = ["--per-repository-credential"] if per_repository else []
    result = run(check, capsys, "fetch", "--host", server.host, "--into", into, *flag, "--pyproject", locked)
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines() == fetch_lines(server, into)
    fetched = server.take_requests()
    assert {r.repository for r in fetched if r.status == 200} == {"acme/app-lib", "acme/core-lib"}
    assert all(r.authenticated for r in fetched if r.status == 200)
    assert sorted(path.relative_to(into).as_posix() for path in into.glob("*/*")) == [
        "acme/app-lib.git",
        "acme/core-lib.git",
    ]

    # The install then reads https://HOST/ from the mirrors, with no credential: each lock URL,
    # with .git or without, reaches its mirror and the locked commit.
    install = dict(
        git_env(),
        GIT_ALLOW_PROTOCOL="file",
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.file://{into}/.insteadOf",
        GIT_CONFIG_VALUE_0=f"https://{server.host}/",
    )
    for repo, url in (("app-lib", server.url("app-lib")), ("core-lib", server.url("core-lib").removesuffix(".git"))):
        clone = tmp_path / "install" / repo
        subprocess.run(["git", "clone", "-q", "--", url, str(clone)], env=install, check=True, capture_output=True)
        # Poetry checks out the locked commit; the copy holds it, and nothing before it.
        commit = commit_of(server, repo)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], env=install, check=True)
        history = subprocess.run(["git", "-C", str(clone), "rev-list", "--all"], env=install, capture_output=True)
        assert history.stdout.decode().split() == [commit]
    assert server.take_requests() == []
    assert files_holding(into, server.token) == []
    assert server.token not in result.out


def test_fetch_never_sends_the_token_elsewhere_nor_writes_it(
    check: ModuleType,
    server: GitServer,
    locked: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
) -> None:
    monkeypatch.setenv("PRIVATE_GIT_TOKEN", "planted-token")
    result = run(
        check,
        capsys,
        "fetch",
        "--host",
        server.host,
        "--into",
        tmp_path / "m",
        "--per-repository-credential",
        "--pyproject",
        locked,
    )
    assert result.code == 1
    calls = [call for call in shim.calls() if "fetch" in call.argv]
    assert sorted(call.argv[call.argv.index("--") + 1] for call in calls) == [
        server.url("app-lib"),
        server.url("core-lib").removesuffix(".git"),
    ]
    for call in calls:
        url = call.argv[call.argv.index("--") + 1]
        assert call.argv[2:7] == ["fetch", "--quiet", "--depth", "1", "--"]
        assert call.env["CHECK_GIT_PASSWORD"] == "planted-token"
        assert call.env["GIT_CONFIG_KEY_0"] == f"credential.{url}.helper"
        assert call.env["GIT_ALLOW_PROTOCOL"] == "https:ssh"
    assert "planted-token" not in result.out + result.err


def test_fetch_says_what_went_wrong_per_repository(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_wide_credential(monkeypatch, server, server.token)
    into = tmp_path / "mirrors"
    (into / "acme" / "app-lib.git").mkdir(parents=True)
    h = server.host
    lock = lock_file(
        ("app-lib", server.url("app-lib"), "v1.0.0", commit_of(server, "app-lib")),
        ("core-lib", server.url("core-lib"), "v1.0.0", commit_of(server, "core-lib")),
        ("secret-lib", server.url("secret-lib"), "v1.0.0", "1" * 40),
        ("core-sub", server.url("core-lib").removesuffix(".git"), "v1.0.0", "0" * 40),
        ("no-commit", f"https://{h}/acme/no-commit.git", "main", ""),
        ("short-commit", f"https://{h}/acme/short.git", "main", "abc1234"),
        ("with-user", f"https://x-access-token:pw@{h}/acme/x.git", "main", "2" * 40),
        ("deep", f"https://{h}/acme/group/x.git", "main", "3" * 40),
        ("bad", "--upload-pack=touch X", "main", "4" * 40),
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run(
        check, capsys, "fetch", "--host", h, "--into", into, "--pyproject", write_project(tmp_path / "p", "", lock)
    )
    assert result.code == 1
    fails = [line for line in result.lines() if not line.startswith("::")]
    assert fails == [
        f"FAIL  app-lib       {server.url('app-lib')} @ v1.0.0: {into}/acme/app-lib.git already exists; "
        "fix: fetch into a new directory",
        f"FAIL  core-lib      {server.url('core-lib')} @ v1.0.0: the locked commit 000000000000 of core-sub is not in "
        "acme/core-lib (moved or force-pushed since the lock); fix: run poetry lock --regenerate and commit "
        "poetry.lock",
        f"FAIL  secret-lib    {server.url('secret-lib')} @ v1.0.0: not found: acme/secret-lib does not exist on {h}, "
        "or these credentials cannot read it; fix: check the name in poetry.lock; ask an owner of acme for read "
        "access (a fine-grained token must list this repository)",
        f"FAIL  no-commit     https://{h}/acme/no-commit.git @ main: poetry.lock records no commit for it; fix: run "
        "poetry lock and commit poetry.lock",
        f"FAIL  short-commit  https://{h}/acme/short.git @ main: poetry.lock records no commit for it; fix: run "
        "poetry lock and commit poetry.lock",
        f"FAIL  with-user     https://***@{h}/acme/x.git @ main: the URL holds a user or credential; fix: write it "
        f"as https://{h}/ORG/REPO.git in pyproject.toml, run poetry lock",
        f"FAIL  deep          https://{h}/acme/group/x.git @ main: names no ORG/REPO on {h}; fix: check the URL",
        "FAIL  bad           --upload-pack=touch X @ main: not a supported git URL; fix: write it as "
        "https://HOST/ORG/REPO.git, ssh://git@HOST/ORG/REPO.git or git@HOST:ORG/REPO.git",
    ]
    annotations = [line for line in result.lines() if line.startswith("::")]
    assert annotations[0] == (
        f"::error title=Cannot fetch app-lib::{into}/acme/app-lib.git already exists; fix: fetch into a new directory"
    )
    assert len(annotations) == 8
    assert result.err == "8 of 8 git sources not fetched\n"


def test_fetch_waits_no_longer_than_the_timeout(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], silent_port: int
) -> None:
    host = f"127.0.0.1:{silent_port}"
    lock = lock_file(("slow", f"https://{host}/acme/slow.git", "v1", "5" * 40))
    pyproject = write_project(tmp_path / "p", "", lock)
    result = run(
        check, capsys, "fetch", "--host", host, "--into", tmp_path / "m", "--timeout", "0.5", "--pyproject", pyproject
    )
    assert result.lines() == [
        f"FAIL  slow  https://{host}/acme/slow.git @ v1: host unreachable: no answer from {host} in 0.5 s; fix: "
        "check the network"
    ]


def test_fetch_keeps_objects_in_the_mirror_and_finds_commits_only_there(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A commit that exists only in another local repository, named by the lock.
    elsewhere = tmp_path / "elsewhere"
    subprocess.run(["git", "init", "-q", str(elsewhere)], env=git_env(), check=True)
    subprocess.run(["git", "-C", str(elsewhere), "commit", "-q", "--allow-empty", "-m", "x"], env=git_env(), check=True)
    foreign = subprocess.run(
        ["git", "-C", str(elsewhere), "rev-parse", "HEAD"], env=git_env(), capture_output=True, text=True
    ).stdout.strip()
    host_wide_credential(monkeypatch, server, server.token)
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path / "objects"))
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(elsewhere / ".git" / "objects"))
    lock = lock_file(
        ("core-lib", server.url("core-lib"), "v1.0.0", commit_of(server, "core-lib")),
        ("app-lib", server.url("app-lib"), "v1.0.0", foreign),
    )
    into = tmp_path / "m"
    result = run(
        check,
        capsys,
        "fetch",
        "--host",
        server.host,
        "--into",
        into,
        "--pyproject",
        write_project(tmp_path / "p", "", lock),
    )
    assert result.lines()[0].startswith("ok    core-lib")
    assert result.lines()[1].startswith(
        f"FAIL  app-lib   {server.url('app-lib')} @ v1.0.0: the locked commit {foreign[:12]}"
    )
    assert not (tmp_path / "objects").exists()
    assert any(path.is_file() for path in (into / "acme" / "core-lib.git" / "objects").rglob("*"))


def test_fetch_without_a_lock_asks_for_one_unless_nothing_is_private(
    check: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shim: GitShim,
) -> None:
    argv = ["fetch", "--host", "h", "--into", tmp_path / "m", "--pyproject"]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    message = (
        "poetry.lock is missing: run poetry lock and commit poetry.lock, so that CI installs the commits you tested"
    )
    private = run(check, capsys, *argv, write_project(tmp_path / "a", poetry_table(a='{ git = "https://h/o/a.git" }')))
    assert (private.code, private.out, private.err) == (
        1,
        f"::error title=Private dependencies::{message}\n",
        f"error: {message}\n",
    )
    public = run(check, capsys, *argv, write_project(tmp_path / "b", "[project]\nname = 'b'\n"))
    assert (public.code, public.out, public.err) == (0, "no private git dependencies to fetch\n", "")
    no_git = run(
        check,
        capsys,
        *argv,
        write_project(tmp_path / "c", poetry_table(a='{ git = "https://h/o/a.git" }'), lock_file()),
    )
    assert (no_git.code, no_git.out) == (0, "no private git dependencies to fetch\n")
    missing = run(check, capsys, *argv, tmp_path / "d" / "pyproject.toml")
    assert missing.code == 2 and "not found" in missing.err
    assert shim.calls() == [] and not (tmp_path / "m").exists()


def test_fetch_reports_a_directory_it_cannot_create(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], shim: GitShim
) -> None:
    (tmp_path / "file").write_text("")
    lock = lock_file(("a", "https://h/acme/a.git", "v1", "6" * 40))
    result = run(
        check,
        capsys,
        "fetch",
        "--host",
        "h",
        "--into",
        tmp_path / "file",
        "--pyproject",
        write_project(tmp_path / "p", "", lock),
    )
    assert result.lines() == [
        f"FAIL  a  https://h/acme/a.git @ v1: cannot create {tmp_path}/file/acme: Not a directory; "
        "fix: choose another --into"
    ]
    assert shim.calls() == []


# --- the command line -----------------------------------------------------------------------


def test_help_says_who_runs_each_subcommand_where(check: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["-h"]):
        capsys.readouterr()
        assert check.main([*argv] or ["--help"]) == 0
        top = " ".join(capsys.readouterr().out.split())
        assert top.partition("[-h] ")[2].startswith(
            "{check,preflight,repositories,fetch,sources-key} ... The private git dependencies: can git reach them, "
            "and what must CI fetch. Standard library only. positional arguments:"
        )
        assert top.endswith(" Without a subcommand: check.")
        for line in (
            "check A person, on their own machine: can git reach every private dependency with my own credentials?",
            "preflight CI, before every install: stop clearly without the secret, then check every dependency.",
            "repositories CI, GitHub App mode: the names of the repositories the App token must read.",
            "fetch CI, the fetch phase: each locked commit on HOST into DIR/<org>/<repo>.git, no history.",
            "sources-key CI: a name for the locked commits fetch holds (a cache key), empty when there are none.",
        ):
            assert line in top
    texts = {
        name: " ".join(run(check, capsys, name, "--help").out.split())
        for name in ("check", "preflight", "repositories", "fetch")
    }
    for name, text in texts.items():
        assert "--pyproject PYPROJECT poetry.lock is read beside it" in text
        # The subcommand's docstring says who runs it where.
        assert text.split(" options: ")[0].endswith(" ".join(getattr(check, f"run_{name}").__doc__.split()))
        # Only what runs git takes a timeout.
        assert ("--timeout TIMEOUT seconds per git command" in text) is (name != "repositories")
    assert (
        texts["check"]
        .split(" options: ")[0]
        .endswith("A person, on their own machine: can git reach every private dependency with my own credentials?")
    )
    per_repository = (
        "--per-repository-credential give git the token in PRIVATE_GIT_TOKEN for exactly the repository URLs on "
        "HOST, as Poetry's per-repository http-basic credentials are scoped"
    )
    assert per_repository in texts["preflight"] and per_repository in texts["fetch"]
    assert "--secret NAME the secret PRIVATE_GIT_TOKEN comes from, named when it is missing" in texts["preflight"]
    assert "--ssh SSH mode: the credential is an SSH agent" in texts["preflight"]
    assert "--host HOST the git host, for --per-repository-credential" in texts["preflight"]
    assert "--owner ORG the organization the GitHub App token reaches" in texts["repositories"]
    assert "--host HOST the git host whose sources are fetched; sources elsewhere are skipped" in texts["fetch"]
    assert "--into DIR where the fetched sources go" in texts["fetch"]


def test_the_module_docstring_says_who_runs_each_subcommand_where(check: ModuleType) -> None:
    doc = " ".join((check.__doc__ or "").split())
    for usage, who in (
        ("check_private_deps.py [check]", "A person, on their own machine"),
        ("preflight --secret NAME [--ssh]", "CI, before every install"),
        ("repositories --owner ORG", "CI, GitHub App mode"),
        ("fetch --host HOST --into DIR", "CI, the fetch phase"),
        ("sources-key --host HOST", "CI: one hash of the locked commits fetch would hold"),
    ):
        assert f"{usage} {who}" in doc


def test_the_sources_key_names_the_locked_commits_on_the_host_and_nothing_else(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache key of the fetched sources: the same for the same commits, whatever else the lock
    holds; another for any other commit; empty without a source on the host."""
    host = "git.example.com"

    def key(*packages: tuple[str, str, str, str], name: str = "p") -> str:
        project = write_project(tmp_path / name / str(len(packages)), "", lock_file(*packages))
        result = run(check, capsys, "sources-key", "--host", host, "--pyproject", project)
        assert (result.code, result.err) == (0, "")
        return result.out.strip()

    core = ("core-lib", f"https://{host}/acme/core-lib.git", "v1.0.0", "a" * 40)
    elsewhere = ("other", "https://git.elsewhere.example/acme/other.git", "v1", "b" * 40)
    first = key(core)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert key(core, elsewhere, name="with-another-host") == first
    assert key((*core[:3], "c" * 40), name="moved") != first
    assert key(core, ("app-lib", f"https://{host}/acme/app-lib.git", "v1", "d" * 40), name="added") != first
    assert key(elsewhere, name="none-on-host") == ""


def test_timeouts_default_to_a_minute_per_check_and_ten_per_clone(check: ModuleType) -> None:
    parse = check.parser().parse_args
    assert parse(["check"]).timeout == 60.0
    assert parse(["preflight", "--secret", "S"]).timeout == 60.0
    assert parse(["fetch", "--host", "h", "--into", "d"]).timeout == 600.0
    assert parse(["fetch", "--host", "h", "--into", "d", "--timeout", "5"]).timeout == 5.0
    assert not hasattr(parse(["repositories", "--owner", "acme"]), "timeout")
    assert parse(["preflight", "--secret", "lower_case_2"]).secret == "lower_case_2"


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["preflight"], "the following arguments are required: --secret"),
        (["preflight", "--secret", "A B"], "argument --secret: not a secret name: 'A B'"),
        (["preflight", "--secret", "1A"], "argument --secret: not a secret name: '1A'"),
        (["preflight", "--secret", "S", "--host=-h:1"], "argument --host: not a host: '-h:1'"),
        (["repositories"], "the following arguments are required: --owner"),
        (["repositories", "--owner=-acme"], "argument --owner: not a GitHub organization: '-acme'"),
        (["repositories", "--owner", "ac me"], "argument --owner: not a GitHub organization: 'ac me'"),
        (["fetch", "--into", "d"], "the following arguments are required: --host"),
        (["fetch", "--host", "h/x", "--into", "d"], "argument --host: not a host: 'h/x'"),
        (["fetch", "--host", "h"], "the following arguments are required: --into"),
        (["--ci-secret", "S"], "unrecognized arguments: --ci-secret S"),
        (["--list-repositories", "acme"], "unrecognized arguments: --list-repositories acme"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(
    check: ModuleType, capsys: pytest.CaptureFixture[str], shim: GitShim, argv: list[str], complaint: str
) -> None:
    result = run(check, capsys, *argv)
    assert (result.code, result.out) == (2, "")
    assert complaint in result.err
    assert shim.calls() == []


# --- hostile input ---------------------------------------------------------------------------

# Processes this test process starts, while a test records them (an audit hook cannot be removed,
# so it is installed once and records only inside `processes_started`). The session's git server
# runs in this process too: its CGI processes are its own, not the script's.
_started: list[str] | None = None
GIT_HTTP_BACKEND = str(git_http_backend())
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty"}


def _record_process(event: str, args: tuple[Any, ...]) -> None:
    if _started is None or event not in PROCESS_EVENTS:
        return
    if event != "subprocess.Popen":
        _started.append(event)
    elif args[1] != [GIT_HTTP_BACKEND]:
        _started.append(os.path.basename(str(args[1][0] if args[1] else args[0])))


sys.addaudithook(_record_process)


@contextlib.contextmanager
def processes_started() -> Iterator[list[str]]:
    global _started
    _started = []
    try:
        yield _started
    finally:
        _started = None


def test_the_security_review_s_payloads_run_nothing_with_real_git(
    check: ModuleType,
    server: GitServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = tmp_path / "pwned"
    local = tmp_path / "local.git"
    subprocess.run(["git", "init", "-q", "--bare", str(local)], check=True)
    pyproject = poetry_table(
        a=f'{{ git = "--upload-pack=touch {canary};", branch = "main" }}',
        b=f'{{ git = "ext::sh -c touch% {canary}", tag = "v1" }}',
        c=f'{{ git = "file://{local}" }}',
        d=f'{{ git = "{server.url("app-lib")}", tag = "--upload-pack=touch {canary}" }}',
        e=f'{{ git = "{server.url("core-lib")}" }}',
        f=f'{{ git = "https://x-access-token:{server.token}@{server.host}/acme/core-lib.git" }}',
    )
    pyproject += f'[project]\ndependencies = ["g @ git+--upload-pack=touch${{IFS}}{canary};@main"]\n'
    # And a git configuration that rewrites the host to a local path: the transport is refused.
    (Path(os.environ["GIT_CONFIG_GLOBAL"])).write_text(
        f'[url "file://{local.parent}/"]\n\tinsteadOf = https://{server.host}/\n'
    )
    with processes_started() as started:
        result = run(check, capsys, "--pyproject", write_project(tmp_path / "p", pyproject))
    assert not canary.exists()
    assert started == ["git", "git"], "only the two supported URLs reach git"
    assert result.code == 1
    lines = result.lines()
    assert all("not a supported git URL" in lines[i] for i in (0, 1, 2, 6))
    assert "the tag is not a valid git ref" in lines[3]
    # The user's git configuration rewrites the host to a local path: that transport is refused.
    assert lines[4] == (
        f"FAIL  e  {server.url('core-lib')}: git failed: fatal: transport 'file' not allowed; "
        f"fix: to see more, run: git ls-remote -- {server.url('core-lib')}"
    )
    assert lines[5] == f"ok    f  reachable: https://***@{server.host}/acme/core-lib.git"
    assert "ls-remote --upload-pack" not in result.out and server.token not in result.out + result.err


# Reproducible: no example database, the same examples on every run. The module's autouse
# fixture isolates the environment per test; each example patches what it needs itself.
PROPERTY: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
}

# Planted where output could leak them: the run's token, a Poetry password, a URL's password.
TOKEN = "ghp_PlantedTokenOfThisRun0123456789abcd"
POETRY_PASSWORD = "planted-poetry-password-5a7e"
URL_PASSWORD = "planted-url-password-9c1d"
SHIM_HOST = "127.0.0.1:1"
HOSTILE_URLS = [
    "--upload-pack=touch CANARY;",
    "--upload-pack=touch${IFS}CANARY;",
    "-oProxyCommand=touch CANARY",
    "ext::sh -c touch% CANARY",
    "file://CANARY.git",
    f"https://{SHIM_HOST}/acme/lib.git --upload-pack=touch CANARY",
    f"https://{SHIM_HOST}/acme/lib.git\n--upload-pack=touch CANARY",
    f"https://{SHIM_HOST}/acme/\x1b]0;title\x07lib.git",
    "ssh://-oProxyCommand=touch CANARY/acme/lib.git",
    "git@-oProxyCommand=touch CANARY:acme/lib.git",
    f"http://{SHIM_HOST}/acme/lib.git",
    f"https://{SHIM_HOST}/acme/../../etc.git",
    f"https://x-access-token:{URL_PASSWORD}@{SHIM_HOST}/acme/lib.git",
    f"https://{URL_PASSWORD}@{SHIM_HOST}/acme/other.git",
    f"ssh://git:{URL_PASSWORD}@{SHIM_HOST}/acme/lib.git",
    f"https://{SHIM_HOST}/acme/lib.git",
    f"https://{SHIM_HOST}/acme/lib",
    "git@127.0.0.1:acme/lib.git",
    f"https://{SHIM_HOST}/acme/ünï.git",
    f"https://{SHIM_HOST}/" + "a" * 5000,
]
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
# URLs git may be given (so the shim runs), hostile ones, and arbitrary text.
SAFE_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True)
GOOD_URLS = st.builds(
    lambda form, org, repo: form.format(host=SHIM_HOST, org=org, repo=repo),
    st.sampled_from(
        [
            "https://{host}/{org}/{repo}.git",
            "https://{host}/{org}/{repo}",
            f"https://x-access-token:{URL_PASSWORD}@{{host}}/{{org}}/{{repo}}.git",
            "ssh://git@{host}/{org}/{repo}.git",
            "git@127.0.0.1:{org}/{repo}.git",
        ]
    ),
    st.sampled_from(["acme", "other"]),
    SAFE_NAME,
)
URLS = st.one_of(
    st.sampled_from(HOSTILE_URLS),
    GOOD_URLS,
    GOOD_URLS,
    GOOD_URLS,
    TEXT,
    st.tuples(
        st.sampled_from(["-", "--", "ext::", "file://", "https://", "ssh://", "git@", f"https://{SHIM_HOST}/"]), TEXT
    ).map("".join),
)
GOOD_REFS = st.sampled_from(["v1.0.0", "main", "deadbeef", "deadbeef-fix", "0123abc", "feature/x"])
REFS = st.one_of(
    GOOD_REFS,
    GOOD_REFS,
    GOOD_REFS,
    st.sampled_from(
        ["v1.0.0", "main", "deadbeef", "deadbeef-fix", "-x", "--upload-pack=touch CANARY", "v\n1", "é", "x" * 300]
    ),
    TEXT,
)
NAMES = st.one_of(
    st.sampled_from(["lib", "my-lib", "::error title=x::y", "%0A::warning::z", "a\nb", "\x1b[31mred", "é", "n" * 500]),
    TEXT,
)
POETRY_ENTRY = st.fixed_dictionaries({"git": URLS}, optional={"tag": REFS, "branch": REFS, "rev": REFS})
REQUIREMENT = st.one_of(
    st.builds(lambda name, url, ref: f"{name} @ git+{url}@{ref}", NAMES, URLS, REFS),
    st.builds(lambda name, url: f"{name}[x] @ git+{url} ; python_version > '3'", NAMES, URLS),
    TEXT,
)
JUNK = st.recursive(
    st.one_of(st.integers(), st.booleans(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
PYPROJECT_DOCS = st.fixed_dictionaries(
    {
        "tool": st.fixed_dictionaries(
            {
                "poetry": st.fixed_dictionaries(
                    {
                        "dependencies": st.dictionaries(
                            NAMES,
                            st.one_of(POETRY_ENTRY, POETRY_ENTRY, st.lists(POETRY_ENTRY, max_size=2), st.just("^1")),
                            min_size=1,
                            max_size=3,
                        ),
                    },
                    optional={
                        "group": st.dictionaries(
                            NAMES,
                            st.fixed_dictionaries({"dependencies": st.dictionaries(NAMES, POETRY_ENTRY, max_size=2)}),
                            max_size=2,
                        ),
                    },
                )
            }
        ),
    },
    optional={
        "project": st.fixed_dictionaries(
            {},
            optional={
                "dependencies": st.lists(REQUIREMENT, max_size=3),
                "optional-dependencies": st.dictionaries(NAMES, st.lists(REQUIREMENT, max_size=2), max_size=2),
            },
        ),
    },
)
PYPROJECT_PLACES = [
    ("tool",),
    ("tool", "poetry"),
    ("tool", "poetry", "dependencies"),
    ("tool", "poetry", "dependencies", "lib"),
    ("tool", "poetry", "dependencies", "lib", "git"),
    ("tool", "poetry", "dependencies", "lib", "tag"),
    ("tool", "poetry", "group"),
    ("tool", "poetry", "group", "dev"),
    ("tool", "poetry", "group", "dev", "dependencies"),
    ("project",),
    ("project", "dependencies"),
    ("project", "optional-dependencies"),
    ("project", "optional-dependencies", "x"),
]
LOCK_PACKAGE = st.fixed_dictionaries(
    {
        "name": NAMES,
        "source": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["git", "git", "url", "directory"]),
                "url": URLS,
                "reference": REFS,
                "resolved_reference": st.one_of(st.sampled_from(["0" * 40, "", "zz", "a" * 64]), REFS),
            }
        ),
    }
)
LOCK_DOCS = st.fixed_dictionaries({"package": st.lists(LOCK_PACKAGE, max_size=4)})
LOCK_PLACES = [
    ("package",),
    ("package", 0),
    ("package", 0, "name"),
    ("package", 0, "source"),
    ("package", 0, "source", "url"),
]


def planted(document: dict[str, Any], place: tuple[str | int, ...], junk: Any) -> dict[str, Any]:
    """The document with `junk` at `place`, making the tables on the way."""
    node: Any = document
    for key in place[:-1]:
        if isinstance(node, list):
            if not node:
                node.append({})
            key = 0
        elif not isinstance(node.get(key), (dict, list)):
            node[key] = {}
        node = node[key]
    if isinstance(node, list):
        node[:1] = [junk]
    else:
        node[place[-1]] = junk
    return document


def well_formed(documents: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return documents.map(tomli_w.dumps).map(str.encode)


def malformed(
    documents: st.SearchStrategy[dict[str, Any]], places: list[tuple[str | int, ...]]
) -> st.SearchStrategy[bytes]:
    """The same shape with junk where the script reads, or not TOML (nor UTF-8) at all."""
    junk = st.builds(planted, documents, st.sampled_from(places), JUNK)
    return st.one_of(well_formed(junk), well_formed(junk), TEXT.map(str.encode), st.binary(max_size=40))


ALLOWED_URL = re.compile(
    r"(https|ssh)://([A-Za-z0-9._~%+-]+(:[A-Za-z0-9._~%+-]*)?@)?[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[A-Za-z0-9._~%+][A-Za-z0-9._~%+-]*)+/?"
    r"|[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:/?[A-Za-z0-9._~%+][A-Za-z0-9._~%+/-]*"
)


def assert_safe(call: Call, into: Path) -> None:
    """What git may be given: fixed options, `--`, an allowed URL; or a check inside a mirror."""
    argv = call.argv
    assert all(arg.isprintable() and arg.isascii() and " " not in arg for arg in argv), argv
    commit = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
    if argv[0] == "init":
        assert argv[:4] == ["init", "--bare", "--quiet", "--"] and len(argv) == 5, argv
        assert Path(argv[-1]).parent.parent == into and argv[-1].endswith(".git"), argv
        return
    if argv[0] == "--git-dir":
        assert Path(argv[1]).parent.parent == into, argv
        if argv[2] != "fetch":
            local = argv[2:]
            assert local[:2] in (["cat-file", "-e"], ["update-ref", f"refs/heads/locked/{local[-1]}"]) or local[:2] == [
                "symbolic-ref",
                "HEAD",
            ], argv
            assert commit.fullmatch(local[-1].removeprefix("refs/heads/locked/").removesuffix("^{commit}")), argv
            return
        argv = argv[2:]
    dash = argv.index("--")
    assert argv[:dash] in (["ls-remote"], ["ls-remote", "--exit-code"], ["fetch", "--quiet", "--depth", "1"]), argv
    assert ALLOWED_URL.fullmatch(argv[dash + 1]), argv
    if argv[0] == "fetch":
        assert argv[dash + 2 :] and all(commit.fullmatch(arg) for arg in argv[dash + 2 :]), argv
    else:
        assert len(argv) == dash + 3, argv
    assert call.env["GIT_ALLOW_PROTOCOL"] == "https:ssh" and call.env["GIT_TERMINAL_PROMPT"] == "0"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def run_every_subcommand(check: ModuleType, bench: Path, pyproject: bytes, lock: bytes | None) -> None:
    """Each subcommand on these files, with git a shim that echoes what it was given and the
    credentials it was handed (as a careless git might), only the shim on PATH, and credentials
    planted in the environment; then what must hold whatever the files say."""
    shutil.rmtree(bench, ignore_errors=True)
    project, into, canary = bench / "project", bench / "mirrors", bench / "canary"
    project.mkdir(parents=True)
    shim = GitShim(bench / "shim")
    echo = 'printf "fatal: refused %s %s %s\\n" "$*" "$PRIVATE_GIT_TOKEN" "$CHECK_GIT_PASSWORD" >&2\n'
    (shim.bin / "git").write_text((shim.bin / "git").read_text().replace("exit", echo + "exit"))
    (project / "pyproject.toml").write_bytes(pyproject.replace(b"CANARY", str(canary).encode()))
    if lock is not None:
        (project / "poetry.lock").write_bytes(lock.replace(b"CANARY", str(canary).encode()))
    environment = {
        "PATH": str(shim.bin),  # nothing but the shim can be started by name
        "PRIVATE_GIT_TOKEN": TOKEN,
        "POETRY_REPOSITORIES_LEAK_URL": f"https://{SHIM_HOST}/acme/lib.git",
        "POETRY_HTTP_BASIC_LEAK_USERNAME": "x-access-token",
        "POETRY_HTTP_BASIC_LEAK_PASSWORD": POETRY_PASSWORD,
        "GITHUB_ACTIONS": "true",
    }
    output, codes = io.StringIO(), []
    with (
        pytest.MonkeyPatch.context() as patch,
        processes_started() as started,
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
    ):
        for key, value in environment.items():
            patch.setenv(key, value)
        for argv in (
            ["check"],
            ["preflight", "--secret", "S", "--per-repository-credential", "--host", SHIM_HOST],
            ["repositories", "--owner", "acme"],
            ["fetch", "--host", SHIM_HOST, "--into", str(into), "--per-repository-credential"],
        ):
            codes.append(check.main([*argv, "--pyproject", str(project / "pyproject.toml")]))
    printed = output.getvalue()
    calls = shim.calls()
    event(f"exit statuses {codes}")  # what the examples reached: --hypothesis-show-statistics
    event(f"git commands: {'none' if not calls else 'a few' if len(calls) < 5 else 'five or more'}")

    assert set(codes) <= {0, 1, 2}
    assert not canary.exists()
    assert set(started) <= {"git"}, started
    for call in calls:
        assert_safe(call, into)
    for secret in (TOKEN, POETRY_PASSWORD, URL_PASSWORD):
        assert secret not in printed
    assert "Traceback" not in printed
    assert all(line.isascii() and line.isprintable() for line in printed.splitlines()), printed


@given(pyproject=well_formed(PYPROJECT_DOCS), lock=st.none() | well_formed(LOCK_DOCS))
@settings(max_examples=150, **PROPERTY)
def test_hostile_values_reach_git_only_as_safe_urls_and_leak_nothing(
    check: ModuleType, bench: Path, pyproject: bytes, lock: bytes | None
) -> None:
    run_every_subcommand(check, bench, pyproject, lock)


@given(
    pyproject=st.one_of(well_formed(PYPROJECT_DOCS), malformed(PYPROJECT_DOCS, PYPROJECT_PLACES)),
    lock=st.one_of(st.none(), malformed(LOCK_DOCS, LOCK_PLACES)),
)
@settings(max_examples=100, **PROPERTY)
def test_malformed_files_are_a_clear_error_never_a_traceback(
    check: ModuleType, bench: Path, pyproject: bytes, lock: bytes | None
) -> None:
    run_every_subcommand(check, bench, pyproject, lock)


@given(
    st.tuples(TEXT, st.sampled_from(["", "-", "--", "ext::", "file://", "https://h/", "ssh://", "git@h:"]), TEXT).map(
        "".join
    )
)
@settings(max_examples=500, **PROPERTY)
def test_whatever_parse_url_accepts_is_an_allowed_url(check: ModuleType, url: str) -> None:
    if check.parse_url(url) is not None:
        assert ALLOWED_URL.fullmatch(url) and not url.startswith("-") and url.isascii()


@given(TEXT, TEXT, st.integers(0, 400))
@settings(max_examples=300, **PROPERTY)
def test_shown_text_is_short_printable_ascii_without_the_token(
    check: ModuleType, before: str, after: str, padding: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRIVATE_GIT_TOKEN", TOKEN)
        shown = check.shown(before + "x" * padding + TOKEN + after)
    assert len(shown) <= 200 and shown.isascii() and shown.isprintable()
    assert TOKEN not in shown and TOKEN[:12] not in shown

"""The whole point of the template, on this machine, in about a minute: `python3 tasks.py demo`.

1. A git server on 127.0.0.1 (TLS from a throw-away CA, HTTP Basic auth) serves an organization
   `acme` with two private libraries; app-lib depends on core-lib by a private git reference.
2. cookiecutter generates a project that depends on both, through its command line as a user
   runs it (it prints the next steps).
3. The project's check command runs without a credential: a FAIL line per library, with the fix.
4. The token is stored the way the generated README's option B says (git's credential cache,
   filled by `git credential approve`), in a throw-away HOME; the check passes.
5. Poetry locks and installs the project and its private libraries; Python imports them.
6. Everything but the project goes: the server, the credential cache, the HOME, the
   certificates. The project (generated/demo-service) is searched for the token; none is there.

Runs with the template's .venv (tasks.py makes it): cookiecutter, Poetry and cryptography. Needs
git (with its git-http-backend) on macOS or Linux. Nothing here touches the user's own git or
Poetry settings: every command gets the throw-away HOME. The package index is the one this
machine's pip uses, read at run time.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_git_server import GitServer
from package_index import package_index_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUTPUT = ROOT / "generated"
PROJECT_NAME = "Demo Service"
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0"
IMPORT_CHECK = "import app_lib, core_lib; print(app_lib.describe())"
EXPECTED_IMPORT = "app 1.0.0 on core 1.0.0"
STEPS = 6


class DemoFailed(Exception):
    """A step did not do what the demo shows it doing."""


def heading(number: int, title: str) -> None:
    print(f"\n== {number}/{STEPS}  {title} ==", flush=True)


def say(text: str) -> None:
    print(text, flush=True)


def indented(text: str) -> None:
    for line in text.rstrip().splitlines():
        print(f"    {line}")
    sys.stdout.flush()


class Shell:
    """Runs commands as a newcomer would type them, in a throw-away HOME, and shows them."""

    def __init__(self, home: Path, server: GitServer) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GIT_", "POETRY_", "VIRTUAL_ENV", "SSH_", "XDG_", "COOKIECUTTER"))
        }
        env.update(
            server.env(),  # trust the demo's CA beside the system's, as a company CA would be
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            POETRY_CONFIG_DIR=str(home / ".config" / "pypoetry"),
            POETRY_CACHE_DIR=str(home / ".cache" / "pypoetry"),
            POETRY_DATA_DIR=str(home / ".local" / "share" / "pypoetry"),
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            GIT_AUTHOR_NAME="Demo",
            GIT_AUTHOR_EMAIL="demo@example.com",
            GIT_COMMITTER_NAME="Demo",
            GIT_COMMITTER_EMAIL="demo@example.com",
        )
        self.env = env

    def run(
        self, command: list[str], cwd: Path, stdin: str | None = None, shown: str | None = None, quiet: bool = False
    ) -> subprocess.CompletedProcess[str]:
        say(f"$ {shown or shlex.join(command)}")
        result = subprocess.run(command, cwd=cwd, env=self.env, input=stdin, capture_output=True, text=True)
        if not quiet:
            indented(result.stdout + result.stderr)
        return result

    def expect(
        self, command: list[str], cwd: Path, stdin: str | None = None, shown: str | None = None, quiet: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """run(), and stop the demo when the command fails (showing its output even if quiet)."""
        result = self.run(command, cwd, stdin, shown, quiet)
        if result.returncode != 0:
            if quiet:
                indented(result.stdout + result.stderr)
            raise DemoFailed(f"{shlex.join(command)} exited {result.returncode}")
        return result


def secret_forms(token: str) -> list[bytes]:
    """The token as it could leak: raw, or inside a Basic auth header."""
    return [
        token.encode(),
        base64.b64encode(token.encode()),
        base64.b64encode(f"x-access-token:{token}".encode()),
    ]


def files_holding(root: Path, token: str) -> list[Path]:
    needles = secret_forms(token)
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            content = path.read_bytes()
            if any(needle in content for needle in needles):
                found.append(path)
    return found


@contextmanager
def credential_cache(shell: Shell, project: Path) -> Iterator[None]:
    """git's in-memory credential cache for the demo; its daemon stops when the demo ends."""
    try:
        yield
    finally:
        subprocess.run(["git", "credential-cache", "exit"], cwd=project, env=shell.env, capture_output=True)


def generate(shell: Shell, server: GitServer, index: str) -> Path:
    answers = {
        "project_name": PROJECT_NAME,
        "github_host": server.host,
        "github_org": server.org,
        "private_dependencies": DEPENDENCIES,
        "package_index_url": index,
    }
    command = [
        str(BIN / "cookiecutter"),
        "--no-input",
        "--output-dir",
        str(OUTPUT.relative_to(ROOT)),
        ".",
        *(f"{key}={value}" for key, value in answers.items()),
    ]
    result = shell.expect(command, ROOT, shown=shlex.join(["cookiecutter", *command[1:]]))
    project = OUTPUT / "demo-service"
    if not (project / "pyproject.toml").is_file():
        raise DemoFailed(f"cookiecutter did not write {project}")
    if "Next steps" not in result.stderr:
        raise DemoFailed("cookiecutter printed no next steps")
    return project


def demo(work: Path) -> tuple[Path, str]:
    """Steps 1-5 and the start of 6; returns the project and the token it must not hold."""
    index = package_index_url()  # read before HOME changes: pip's settings are the user's
    home = work / "home"
    home.mkdir()
    with GitServer(work / "server") as server:
        heading(1, "A private git server on this machine")
        say(
            f"https://{server.host}/{server.org}/ serves two private libraries over TLS, with HTTP Basic\n"
            f"auth like GitHub: {server.org}/core-lib and {server.org}/app-lib, which depends on core-lib\n"
            "by a private git reference. Without a token it answers 401. Its certificate comes from a\n"
            "throw-away certificate authority that only this demo's commands trust."
        )
        shell = Shell(home, server)

        heading(2, "Generate a project that depends on them")
        project = OUTPUT / "demo-service"
        if project.exists():
            shutil.rmtree(project)  # the previous demo's project, with its .venv
        generate(shell, server, index)
        say(f"The project is in {project.relative_to(ROOT)}/. Its README.md is the new hire's guide.")

        heading(3, "Check access before having any")
        check = [sys.executable, "scripts/check_private_deps.py"]
        shown_check = "python3 scripts/check_private_deps.py"
        result = shell.run(check, project, shown=shown_check)
        if result.returncode == 0 or result.stdout.count("FAIL") != 2:
            raise DemoFailed("the check should fail for both libraries without a credential")
        say("Exit 1: each FAIL line names the library, why it is unreachable, and the fix.")

        heading(4, "Store the token as the project's README says (option B), then check again")
        say(
            "A token is issued to you (here: by the demo server). git keeps it in its memory cache,\n"
            "in a throw-away HOME; scripts/store_token.py hands it over the same way after a hidden prompt."
        )
        with credential_cache(shell, project):
            shell.expect(["git", "config", "--global", "credential.helper", "cache --timeout=900"], project)
            approve = f"protocol=https\nhost={server.host}\nusername=x-access-token\npassword={server.token}\n\n"
            shell.expect(
                ["git", "credential", "approve"],
                project,
                stdin=approve,
                shown="git credential approve   # token on stdin",
            )
            result = shell.run(check, project, shown=shown_check)
            if result.returncode != 0 or result.stdout.count("ok ") != 2:
                raise DemoFailed("the check should pass for both libraries with the token stored")

            heading(5, "Lock, commit and install with Poetry, then import the libraries")
            say("The next steps cookiecutter printed, but `gh repo create`: no GitHub here.")
            shell.expect(["git", "init", "-b", "main"], project)
            shell.expect(["poetry", "lock"], project)
            shell.expect(["git", "add", "-A"], project)
            shell.expect(["git", "commit", "-q", "-m", "Generate demo-service from the Python template"], project)
            started = time.monotonic()
            result = shell.expect(["poetry", "install", "--no-interaction"], project, quiet=True)
            private = [line for line in result.stdout.splitlines() if "app-lib" in line or "core-lib" in line]
            indented("\n".join(private))
            others = sum("Installing" in line for line in result.stdout.splitlines()) - len(private)
            say(f"    (and {others} more: the project itself and its dev tools; {time.monotonic() - started:.0f} s)")
            result = shell.expect(["poetry", "run", "python", "-c", IMPORT_CHECK], project)
            if result.stdout.strip() != EXPECTED_IMPORT:
                raise DemoFailed(f"expected {EXPECTED_IMPORT!r} from the import")
        lock = (project / "poetry.lock").read_text(encoding="utf-8")
        if f'url = "{server.url("core-lib")}"' not in lock:
            raise DemoFailed("poetry.lock should record the plain https URL of core-lib")
        token = server.token
    heading(6, "Clean up")
    say("Stopped the server and git's credential cache.")
    return project, token


def main() -> int:
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="template-demo-") as work:
            project, token = demo(Path(work))
        leaked = files_holding(project, token)
        if leaked:
            raise DemoFailed(f"the token is in {', '.join(map(str, leaked))}")
    except DemoFailed as error:
        print(f"\nThe demo failed: {error}", file=sys.stderr)
        return 1
    relative = project.relative_to(ROOT)
    say(
        "Removed the throw-away HOME (git and Poetry settings and caches), the repositories and the\n"
        f"certificates. No file under {relative}/ holds the token; poetry.lock records plain https URLs.\n"
        f"\nDone in {time.monotonic() - started:.0f} s. The project is in {relative}/ (its .venv has the\n"
        "libraries; its pyproject.toml names the demo server, which is gone now). To bring the\n"
        "template into your organization, read README.md."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

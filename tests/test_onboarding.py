"""A newcomer who follows only the generated README gets a working install.

The README's setup commands are read from the rendered README, not retyped here, and run against
the session's private git server (tests/support/gitserver.py) in a fresh HOME: if the README rots, these
tests fail. The check command is run the same way for each failure a newcomer meets, and must
name the dependency, the reason and the fix without ever printing the token.
"""

from __future__ import annotations

import base64
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import package_index_url, render, require_tool, run, tool_env
from support.gitserver import GitServer, SshGitServer, new_token

pytestmark = pytest.mark.slow

# app-lib depends on core-lib by a private git reference: the README's org-wide setup must cover both.
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0"
INSTALLED_IMPORT = "import app_lib, core_lib; print(app_lib.describe())"


# --- the README's commands ------------------------------------------------------------------


def shell_lines(readme: str) -> list[str]:
    """Every command line of the README's ```sh blocks."""
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def readme_command(readme: str, needle: str) -> str:
    """The one shell-block line containing `needle`."""
    found = [line for line in shell_lines(readme) if needle in line]
    assert len(found) == 1, f"expected one README command with {needle!r}, found {found}"
    return found[0]


def readme_inline_command(readme: str, needle: str) -> str:
    """The one inline `code` span containing `needle` (commands given inside list items)."""
    found = [span for span in re.findall(r"`([^`\n]+)`", readme) if needle in span]
    assert len(found) == 1, f"expected one inline README command with {needle!r}, found {found}"
    return found[0]


# --- a newcomer's machine -------------------------------------------------------------------


@dataclass
class Newcomer:
    """A rendered project and a fresh HOME; runs README lines with bash, as a user would paste them."""

    project: Path
    home: Path
    env: dict[str, str]
    readme: str

    def sh(self, line: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=self.project,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{line} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def check_access(self, case: str) -> subprocess.CompletedProcess[str]:
        result = self.sh(readme_command(self.readme, "check_private_deps.py"), check=False)
        # Printed for the record (pytest -s): what a newcomer sees in each case.
        print(f"--- check command, {case}: exit {result.returncode}\n{result.stdout}{result.stderr}")
        return result

    @contextmanager
    def token_in_credential_cache(self, token: str) -> Iterator[Path]:
        """README option B on a Linux machine without a keyring; the cache daemon stops afterwards."""
        socket = self.home / ".cache" / "git" / "credential" / "socket"
        self.sh(readme_inline_command(self.readme, "credential.helper 'cache"))
        try:
            self.sh(readme_command(self.readme, "git credential approve"), stdin=token + "\n")
            assert socket.is_socket(), "the credential cache must live under this HOME"
            yield socket
        finally:
            self.sh("git credential-cache exit", check=False)
        assert not socket.exists(), "the credential cache daemon is still running"


def newcomer(tmp_path: Path, server: GitServer, dependencies: str = DEPENDENCIES) -> Newcomer:
    project = render(
        "cookiecutter",
        tmp_path / "checkout",
        {
            "project_name": "Onboarding Check",
            "github_host": server.host,
            "github_org": server.org,
            "private_dependencies": dependencies,
            "package_index_url": package_index_url(),
        },
    ).path
    home = tmp_path / "home"
    home.mkdir()
    # The test CA stands in for a company CA; XDG_CACHE_HOME pins the credential cache's socket
    # under this HOME whatever the caller's environment says.
    env = tool_env(home, **server.env(), XDG_CACHE_HOME=str(home / ".cache"))
    env.pop("GIT_ASKPASS", None)
    env.pop("SSH_ASKPASS", None)
    env.pop("SSH_AUTH_SOCK", None)  # no agent of the caller's: only the keys this test gives
    return Newcomer(project, home, env, (project / "README.md").read_text())


def secret_needles(*tokens: str) -> list[str]:
    """A token as it could leak: raw, or inside a Basic auth header."""
    needles = []
    for token in tokens:
        needles += [
            token,
            base64.b64encode(token.encode()).decode(),
            base64.b64encode(f"x-access-token:{token}".encode()).decode(),
        ]
    return needles


def assert_no_secret(text: str, *tokens: str) -> None:
    for needle in secret_needles(*tokens):
        assert needle not in text, "the output contains the token"


def dependency_lines(output: str) -> dict[str, str]:
    """The check command's line for each dependency, by name."""
    lines = {}
    for line in output.splitlines():
        match = re.match(r"^(ok|FAIL)\s+(\S+)\s", line)
        if match:
            lines[match[2]] = line
    return lines


# --- the check command ----------------------------------------------------------------------


def test_check_without_credentials_names_every_dependency_and_the_fix(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server)
    result = user.check_access("no credentials")
    assert result.returncode == 1
    lines = dependency_lines(result.stdout)
    assert set(lines) == {"app-lib", "core-lib"}
    host = git_server.host
    for name, line in lines.items():
        assert line.startswith(f"FAIL  {name}")
        assert f"{git_server.url(name)} @ v1.0.0: no credentials: git has none for {host}" in line
        assert f"'gh auth login --hostname {host}' then 'gh auth setup-git --hostname {host}'" in line
        assert "a token, or SSH (see 'Getting access to the private repositories' in README.md)" in line
    assert_no_secret(result.stdout + result.stderr, git_server.token, git_server.other_token)


def test_check_with_the_token_in_the_credential_store_passes(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server)
    with user.token_in_credential_cache(git_server.token):
        result = user.check_access("the right token in the credential cache")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dependency_lines(result.stdout)
    assert set(lines) == {"app-lib", "core-lib"}
    assert all(line.startswith("ok") for line in lines.values()), result.stdout
    assert_no_secret(result.stdout + result.stderr, git_server.token)


def test_check_names_exactly_the_missing_repository(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server, f"{DEPENDENCIES}, missing-lib@v1.0.0")
    with user.token_in_credential_cache(git_server.token):
        result = user.check_access("one repository missing")
    assert result.returncode == 1
    lines = dependency_lines(result.stdout)
    assert set(lines) == {"app-lib", "core-lib", "missing-lib"}
    assert lines["app-lib"].startswith("ok") and lines["core-lib"].startswith("ok")
    assert lines["missing-lib"].startswith("FAIL  missing-lib")
    assert f"not found: acme/missing-lib does not exist on {git_server.host}" in lines["missing-lib"]
    assert "fix: check the name in pyproject.toml; ask an owner of acme for read access" in lines["missing-lib"]
    assert "not found" not in lines["app-lib"] + lines["core-lib"]
    assert "1 of 3 private dependencies unreachable" in result.stderr
    assert_no_secret(result.stdout + result.stderr, git_server.token)


def test_check_with_a_wrong_token_says_denied(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server)
    wrong = new_token()
    with user.token_in_credential_cache(wrong):
        result = user.check_access("a wrong token")
    assert result.returncode == 1
    lines = dependency_lines(result.stdout)
    assert set(lines) == {"app-lib", "core-lib"}
    for line in lines.values():
        assert f"denied: {git_server.host} refused the credentials" in line
        assert "fix: create a new token that can read acme/" in line
    assert_no_secret(result.stdout + result.stderr, wrong, git_server.token)


def test_check_with_an_unknown_tag_says_the_tag_is_missing(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server, "app-lib@v1.0.0, core-lib@v9.9.9")
    with user.token_in_credential_cache(git_server.token):
        result = user.check_access("an unknown tag")
    assert result.returncode == 1
    lines = dependency_lines(result.stdout)
    assert lines["app-lib"].startswith("ok")
    assert lines["core-lib"] == (
        f"FAIL  core-lib  {git_server.url('core-lib')} @ v9.9.9: tag 'v9.9.9' does not exist in acme/core-lib; "
        "fix: check the tag in pyproject.toml against the repository"
    )
    assert_no_secret(result.stdout + result.stderr, git_server.token)


# --- the README, end to end -----------------------------------------------------------------


def files_containing(root: Path, *tokens: str) -> list[Path]:
    needles = [needle.encode() for needle in secret_needles(*tokens)]
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and any(needle in path.read_bytes() for needle in needles)
    ]


def install_and_import(user: Newcomer) -> str:
    """The README's install command, then the private libraries from the project's virtualenv."""
    user.sh(readme_command(user.readme, "poetry install"))
    # The lock records the plain https URLs, so CI and every teammate share it whatever their auth.
    lock = (user.project / "poetry.lock").read_text()
    assert 'url = "https://127.0.0.1:' in lock and "ssh://" not in lock
    imported = run([str(user.project / ".venv" / "bin" / "python"), "-c", INSTALLED_IMPORT], user.project, user.env)
    return imported.stdout.strip()


def test_readme_token_in_credential_cache_gets_a_working_install(tmp_path: Path, git_server: GitServer) -> None:
    user = newcomer(tmp_path, git_server)
    user.sh(readme_command(user.readme, "poetry config system-git-client true"))
    git_server.take_requests()
    with user.token_in_credential_cache(git_server.token):
        assert user.check_access("README option B, before install").returncode == 0
        assert install_and_import(user) == "app 1.0.0 on core 1.0.0"
    served = git_server.take_requests()
    assert {r.repository for r in served if r.authenticated and r.status == 200} >= {"acme/app-lib", "acme/core-lib"}
    # The token lived in the cache daemon's memory only: not in the HOME, the project or its venv.
    assert files_containing(tmp_path, git_server.token) == []


@pytest.fixture(scope="module")
def ssh_server(git_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshGitServer]:
    sshd = require_tool("sshd")
    require_tool("ssh")
    try:
        server = SshGitServer(git_server, tmp_path_factory.mktemp("sshd"), sshd=sshd).start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"the test sshd cannot run here: {error}")
    try:
        yield server
    finally:
        server.stop()


def answer_in_terminal(line: str, user: Newcomer, prompt: bytes, answer: str) -> tuple[int, str]:
    """Run a README line in a terminal and answer its prompt, as the newcomer would type."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, nothing else (the parent has threads)
        try:
            os.chdir(user.project)
            os.execvpe("bash", ["bash", "-c", line], user.env)
        finally:
            os._exit(127)
    output, answered, deadline = b"", False, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
            try:
                chunk = os.read(fd, 4096) if ready else b""
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and prompt in output:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_readme_ssh_insteadof_gets_a_working_install(
    tmp_path: Path, git_server: GitServer, ssh_server: SshGitServer
) -> None:
    user = newcomer(tmp_path, git_server)
    # What a newcomer already has: a key on their account. The host's key is learnt from the README.
    ssh_dir = user.home / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    key = ssh_dir / "id_ed25519"
    key.write_text(ssh_server.private_key)
    key.chmod(0o600)
    known_hosts = ssh_dir / "known_hosts"
    (ssh_dir / "config").write_text(
        ssh_server.ssh_config() + f"  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known_hosts}\n"
    )
    # OpenSSH reads ~/.ssh from the passwd entry, not $HOME, and the git@ of the README's URL beats
    # the config's User; this sshd serves on a free port as the current user. On a real host,
    # ssh://git@HOST/ needs neither this shim nor the config.
    tools = tmp_path / "bin"
    tools.mkdir()
    shim = tools / "ssh"
    shim.write_text(f'#!/bin/sh\nexec "{shutil.which("ssh")}" -F "$HOME/.ssh/config" -l "{ssh_server.user}" "$@"\n')
    shim.chmod(0o755)
    user.env["PATH"] = f"{tools}{os.pathsep}{user.env['PATH']}"

    user.sh(readme_command(user.readme, "poetry config system-git-client true"))
    insteadof = readme_command(user.readme, ".insteadOf")
    assert insteadof.endswith(f'.insteadOf "https://{git_server.host}/"'), "the whole host, as CI rewrites it"
    user.sh(insteadof)

    # Skipping the README's first SSH step: the check cannot ask about the unknown host key.
    skipped = user.check_access("README option C (SSH) without the first 'ssh -T'")
    assert skipped.returncode == 1
    for line in dependency_lines(skipped.stdout).values():
        assert re.search(r"the SSH host key of 127\.0\.0\.1 is not trusted yet", line), skipped.stdout

    # The README's first connection shows the host key's fingerprint; the newcomer compares, says yes.
    host_key = tmp_path / "host_key.pub"
    host_key.write_text(ssh_server.known_hosts_line.split(" ", 1)[1] + "\n")
    fingerprint = run(["ssh-keygen", "-lf", str(host_key)], tmp_path, user.env).stdout.split()[1]
    status, transcript = answer_in_terminal(
        readme_command(user.readme, "ssh -T git@"), user, b"continue connecting (yes/no", "yes"
    )
    print(f"--- ssh -T (README option C): exit {status}\n{transcript}")
    assert fingerprint in transcript and "Permanently added" in transcript, transcript
    # GitHub greets and exits 1 (no shell); this server's forced command refuses a shell the same way.
    assert status != 255 and "Permission denied" not in transcript, "ssh itself failed"
    assert known_hosts.read_text().strip()

    git_server.take_requests()
    assert user.check_access("README option C (SSH), before install").returncode == 0
    assert install_and_import(user) == "app 1.0.0 on core 1.0.0"
    assert git_server.take_requests() == [], "everything must come over SSH, nothing over HTTPS"

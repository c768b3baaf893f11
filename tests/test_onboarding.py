"""A newcomer who follows only the generated README gets access, a clone and a working install.

The README's shell commands are read from the rendered README, not retyped here, and run with
bash in a fresh HOME against the session's private git server (demo/local_git_server.py) and
an sshd: if the README rots, these tests fail. For each git_auth mode one walk-through runs every
command of that mode's README, as the person who generated the project and then as a new hire,
each access option in turn, prompts answered through a pseudo-terminal (pexpect); the few lines
it cannot run are listed in EXEMPT with the reason, and a README command that is neither run nor
exempt fails the test. The check command is run for each failure a newcomer meets, and must name
the dependency, the reason and the fix without ever printing the token.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest
from support import BIN, package_index_url, render, require_tool, run, tool_env
from support.git_credentials import find_on_disk, secret_needles
from support.gitserver import GitServer, SshGitServer, new_token
from support.modes import GIT_AUTH_MODES

pytestmark = pytest.mark.slow

# app-lib depends on core-lib by a private git reference: the README's org-wide setup must cover both.
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0"
INSTALLED_IMPORT = "import app_lib, core_lib; print(app_lib.describe())"
MODES = list(GIT_AUTH_MODES)

# README lines no test here can run, each with the reason. A pattern matches a whole line.
EXEMPT = {
    r"gh auth login --hostname \S+ --git-protocol https --web": (
        "signs in through a browser; the walk-through stands in with gh's own hosts.yml holding a token"
    ),
    r"git config --global credential\.helper osxkeychain": "macOS only: the keychain helper ships with git there",
    r"(GH_HOST=\S+ )?gh repo create .*": (
        "creates the repository on GitHub; the walk-through publishes it to the local git server instead"
    ),
    r'id="\$\(gh api .*\)"': "GitHub's REST API, as an owner of the organization",
    r"gh api .*-X PUT .*": "GitHub's REST API, as an owner of the organization",
    r"pipx ensurepath|pipx install poetry==\S+": (
        "installs Poetry for good: test_the_readme_puts_poetry_on_path_in_a_new_terminal runs both"
    ),
    r"python3 scripts/template_update\.py": "a template update: tests/test_template_update_workflow.py runs it",
    r"(GH_HOST=\S+ )?gh api -X POST \S+/rulesets --input \S+": "GitHub's REST API, as an owner of the organization",
}


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


def exemption(line: str) -> str | None:
    return next((reason for pattern, reason in EXEMPT.items() if re.fullmatch(pattern, line)), None)


# --- a person at a terminal -----------------------------------------------------------------


@dataclass
class Person:
    """A fresh HOME; runs README lines with bash, as a person would paste them, and notes each."""

    cwd: Path
    home: Path
    env: dict[str, str]
    readme: str
    ran: set[str] = field(default_factory=set)

    def sh(self, line: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.ran.add(line)
        if line.startswith("cd "):  # each line runs in its own bash: a `cd` moves the next ones
            self.cwd = self.cwd / line.removeprefix("cd ")
            assert self.cwd.is_dir(), line
            return subprocess.CompletedProcess(line, 0, "", "")
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=self.cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{line} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def run_readme(self, needle: str, **options: object) -> subprocess.CompletedProcess[str]:
        return self.sh(readme_command(self.readme, needle), **options)  # type: ignore[arg-type]

    def in_terminal(self, line: str, prompt: str, answer: str) -> tuple[int, str]:
        """Run a README line in a pseudo-terminal and type the answer at its prompt."""
        self.ran.add(line)
        transcript = io.StringIO()
        # The terminal closes when the line ends and hangs up the line's processes, a credential
        # cache daemon started by it too; a person's terminal stays open, so the daemon stays.
        env = dict(
            self.env,
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="credentialCache.ignoreSIGHUP",
            GIT_CONFIG_VALUE_0="true",
        )
        child = pexpect.spawn("bash", ["-c", line], cwd=str(self.cwd), env=env, encoding="utf-8", timeout=60)
        child.logfile_read = transcript
        child.expect_exact(prompt)
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        return child.exitstatus if child.exitstatus is not None else -1, transcript.getvalue()

    def check_access(self, case: str) -> subprocess.CompletedProcess[str]:
        result = self.run_readme("check_private_deps.py", check=False)
        # Printed for the record (pytest -s): what a newcomer sees in each case.
        print(f"--- check command, {case}: exit {result.returncode}\n{result.stdout}{result.stderr}")
        return result

    def forget_git_settings(self) -> None:
        """Back to a fresh git: no helper, no URL rules (the next access option starts clean)."""
        self.sh("git credential-cache exit", check=False)
        (self.home / ".gitconfig").unlink(missing_ok=True)

    @contextmanager
    def token_in_credential_cache(self, token: str) -> Iterator[Path]:
        """README option B on a Linux machine without a keyring; the cache daemon stops afterwards."""
        socket = self.home / ".cache" / "git" / "credential" / "socket"
        self.run_readme("credential.helper 'cache")
        try:
            self.run_readme("git credential approve", stdin=token + "\n")
            assert socket.is_socket(), "the credential cache must live under this HOME"
            yield socket
        finally:
            self.sh("git credential-cache exit", check=False)
        assert not socket.exists(), "the credential cache daemon is still running"


def person(home: Path, cwd: Path, server: GitServer, readme: str) -> Person:
    home.mkdir(parents=True)
    cwd.mkdir(parents=True, exist_ok=True)
    # The test CA stands in for a company CA; XDG_* pin the credential cache's socket and gh's
    # settings under this HOME whatever the caller's environment says.
    env = tool_env(home, **server.env(), XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"))
    for name in ("GIT_ASKPASS", "SSH_ASKPASS", "SSH_AUTH_SOCK", "GH_TOKEN", "GH_HOST", "GH_CONFIG_DIR"):
        env.pop(name, None)  # nothing of the caller's: only what each test gives
    return Person(cwd, home, env, readme)


def rendered(tmp_path: Path, server: GitServer, dependencies: str = DEPENDENCIES, **answers: object) -> Path:
    return render(
        "cookiecutter",
        tmp_path / "generated",
        {
            "project_name": "Onboarding Check",  # the slug: onboarding-check
            "github_host": server.host,
            "github_org": server.org,
            "private_dependencies": dependencies,
            "package_index_url": package_index_url(),
            **answers,
        },
    ).path


def newcomer(tmp_path: Path, server: GitServer, dependencies: str = DEPENDENCIES) -> Person:
    """A fresh HOME in the rendered project (for the check command's cases)."""
    project = rendered(tmp_path, server, dependencies)
    return person(tmp_path / "home", project, server, (project / "README.md").read_text())


def assert_no_secret(text: str, *tokens: str) -> None:
    assert not [needle for needle in secret_needles(*tokens) if needle in text.encode()], "the output holds a token"


def files_containing(root: Path, *tokens: str) -> list[str]:
    return find_on_disk(root, secret_needles(*tokens))[0]


def dependency_lines(output: str) -> dict[str, str]:
    """The check command's line for each dependency, by name."""
    lines = {}
    for line in output.splitlines():
        match = re.match(r"^(ok|FAIL)\s+(\S+)\s", line)
        if match:
            lines[match[2]] = line
    return lines


def assert_all_reachable(result: subprocess.CompletedProcess[str], names: set[str] | None = None) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dependency_lines(result.stdout)
    assert set(lines) == (names or {"app-lib", "core-lib"})
    assert all(line.startswith("ok") for line in lines.values()), result.stdout


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
    assert "## Getting access to the private repositories" in user.readme, "the section the fix names"
    assert_no_secret(result.stdout + result.stderr, git_server.token, git_server.other_token)


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
    denied = [line for line in lines.values() if f"denied: {git_server.host} refused the credentials" in line]
    assert denied, result.stdout
    for line in denied:
        assert "fix: create a new token that can read acme/" in line
    # git erases a credential from its store at the first 401, so a repository checked at the
    # same moment may already find the store empty.
    for line in lines.values():
        assert line in denied or f"no credentials: git has none for {git_server.host}" in line, line
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


# --- the token helper -----------------------------------------------------------------------


def test_store_token_refuses_before_asking_when_git_has_no_store(tmp_path: Path, git_server: GitServer) -> None:
    """Without a credential helper, `git credential approve` drops a token silently: the helper
    stops first, names the three stores, and never asks for the token."""
    user = newcomer(tmp_path, git_server)
    result = user.run_readme("scripts/store_token.py", stdin=git_server.token + "\n", check=False)
    assert result.returncode == 2
    assert f"git has no credential helper for https://{git_server.host}/" in result.stderr
    assert "credential.helper osxkeychain" in result.stderr and "credential.helper manager" in result.stderr
    assert "Token for" not in result.stdout + result.stderr, "it asked for the token"
    assert_no_secret(result.stdout + result.stderr, git_server.token)


# --- the README, end to end, for each mode --------------------------------------------------


def generate_and_publish(tmp_path: Path, server: GitServer, mode: str) -> tuple[str, str, set[str]]:
    """The teammate who generated the project: option B's store, then "Right after generating".
    Returns the repository's name, the README and the lines run; the repository goes to the
    session's git server (under a name of its own per mode)."""
    slug = f"new-hire-{mode}"
    project = rendered(tmp_path, server, git_auth=mode, project_name=f"New Hire {mode}")
    assert project.name == slug
    readme = (project / "README.md").read_text()
    author = person(tmp_path / "author-home", project, server, readme)
    with author.token_in_credential_cache(server.token):
        section = readme.split("## Right after generating", 1)[1].split("\n## ", 1)[0]
        creating = shell_lines(section.split("For CI,", 1)[0])
        assert creating[:4] == ["git init -b main", "poetry lock", "git add -A", creating[3]], creating
        for line in creating:
            if exemption(line) is None:
                author.sh(line)
    assert run(["git", "status", "--porcelain"], project).stdout == "", "everything generated is committed"
    assert "poetry.lock" in run(["git", "ls-files"], project).stdout
    server.publish(project, slug)  # what `gh repo create --source . --push` does
    return slug, readme, author.ran


def gh_signed_in(user: Person, host: str, token: str) -> None:
    """What `gh auth login --web` leaves behind: gh's hosts.yml with the token of the sign-in."""
    gh_config = user.home / ".config" / "gh"
    gh_config.mkdir(parents=True)
    (gh_config / "hosts.yml").write_text(
        f"{host}:\n    oauth_token: {token}\n    user: newcomer\n    git_protocol: https\n"
    )


def use_ssh_key(user: Person, ssh_server: SshGitServer, tmp_path: Path) -> Path:
    """What a newcomer already has: a key on their account. Returns the known_hosts file."""
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
    return known_hosts


@pytest.mark.parametrize("mode", MODES)
def test_every_readme_command_works_for_a_new_hire(
    mode: str, tmp_path: Path, git_server: GitServer, ssh_server: SshGitServer, request: pytest.FixtureRequest
) -> None:
    require_tool("gh")
    slug, readme, ran = generate_and_publish(tmp_path, git_server, mode)
    host = git_server.host
    user = person(tmp_path / "home", tmp_path / "work", git_server, readme)
    # Whatever fails, no credential cache daemon outlives the test with a token in its memory.
    request.addfinalizer(lambda: user.sh("git credential-cache exit", check=False))

    # Option A: gh as git's credential helper (its browser sign-in is stood in for), then clone.
    gh_signed_in(user, host, git_server.other_token)
    user.run_readme("gh auth setup-git")
    user.run_readme("git clone")
    user.run_readme(f"cd {slug}")
    assert_all_reachable(user.check_access("README option A (gh)"))
    user.forget_git_settings()
    assert user.check_access("no credentials again").returncode == 1

    # Option B, in the shell: the prompt shows, the token does not.
    user.run_readme("credential.helper 'cache")
    status, transcript = user.in_terminal(
        readme_command(readme, "git credential approve"), f"Token for {host}: ", git_server.token
    )
    assert status == 0, transcript
    assert_no_secret(transcript, git_server.token)
    assert_all_reachable(user.check_access("README option B (shell)"))
    user.sh("git credential-cache exit")
    assert user.check_access("the cache emptied").returncode == 1

    # Option B with the helper of every system: the same, after a visible prompt.
    status, transcript = user.in_terminal(
        readme_command(readme, "scripts/store_token.py"), f"Token for {host} (hidden", git_server.token
    )
    print(f"--- store_token.py: exit {status}\n{transcript}")
    assert status == 0 and "Stored." in transcript, transcript
    assert "cache --timeout=28800" in transcript, "it names the store the token goes to"
    assert_no_secret(transcript, git_server.token)
    assert_all_reachable(user.check_access("README option B (store_token.py)"))
    user.forget_git_settings()
    assert files_containing(tmp_path, git_server.token) == [], "the token reached a file"

    # Option C: SSH. Without the README's first connection the check cannot trust the host.
    known_hosts = use_ssh_key(user, ssh_server, tmp_path)
    for line in shell_lines(readme):
        if ".insteadOf" in line:
            assert re.fullmatch(
                rf'git config --global url\."ssh://git@127\.0\.0\.1/(\w+)/"\.insteadOf "https://{re.escape(host)}/\1/"',
                line,
            ), "one organization at a time: other repositories on the host keep https"
            user.sh(line)
    skipped = user.check_access("README option C (SSH) without the first 'ssh -T'")
    assert skipped.returncode == 1
    for line in dependency_lines(skipped.stdout).values():
        assert "the SSH host key of 127.0.0.1 is not trusted yet" in line, skipped.stdout
    host_key = tmp_path / "host_key.pub"
    host_key.write_text(ssh_server.known_hosts_line.split(" ", 1)[1] + "\n")
    fingerprint = run(["ssh-keygen", "-lf", str(host_key)], tmp_path, user.env).stdout.split()[1]
    status, transcript = user.in_terminal(readme_command(readme, "ssh -T git@"), "continue connecting (yes/no", "yes")
    assert fingerprint in transcript and "Permanently added" in transcript, transcript
    # GitHub greets and exits 1 (no shell); this server's forced command refuses a shell the same way.
    assert status != 255 and "Permission denied" not in transcript, "ssh itself failed"
    assert known_hosts.read_text().strip()
    git_server.take_requests()
    assert_all_reachable(user.check_access("README option C (SSH)"))

    # Install and test, everything over SSH.
    section = readme.split("## Install and test", 1)[1].split("\n## ", 1)[0]
    for line in shell_lines(section):
        user.sh(line)
    assert git_server.take_requests() == [], "everything must come over SSH, nothing over HTTPS"
    clone = user.cwd
    imported = run([str(clone / ".venv" / "bin" / "python"), "-c", INSTALLED_IMPORT], clone, user.env)
    assert imported.stdout.strip() == "app 1.0.0 on core 1.0.0"
    assert (clone / ".git" / "hooks" / "pre-commit").is_file()
    assert run(["git", "status", "--porcelain"], clone).stdout == "", "poetry.lock was committed as it installs"

    unrun = {line: exemption(line) for line in shell_lines(readme) if line not in ran | user.ran}
    assert {line for line, reason in unrun.items() if reason is None} == set(), "README commands no test runs"
    print("--- exempt:", *(f"{line}: {reason}" for line, reason in unrun.items()), sep="\n")


def test_the_readme_puts_poetry_on_path_in_a_new_terminal(tmp_path: Path, git_server: GitServer) -> None:
    """The Linux path of the prerequisites. Debian's `sudo apt install pipx` (pipx 1.1.0 on
    Debian 12) needs root, so pipx installed by pip into a virtualenv stands in for it."""
    project = rendered(tmp_path, git_server)
    readme = (project / "README.md").read_text()
    assert "`sudo apt install pipx` (Debian, Ubuntu)" in readme and "`brew install pipx` (macOS)" in readme
    assert "`py -m pip install --user pipx` (Windows" in readme and "pip install --user poetry" not in readme
    stand_in = tmp_path / "pipx"
    run([sys.executable, "-m", "venv", str(stand_in)], tmp_path)
    run([str(stand_in / "bin" / "python"), "-m", "pip", "install", "--quiet", "pipx"], tmp_path)
    user = person(tmp_path / "home", tmp_path, git_server, readme)
    # The system's programs and pipx, as after the apt line: not the Poetry these tests run.
    user.env["PATH"] = os.pathsep.join([str(stand_in / "bin"), "/usr/bin", "/bin"])

    def new_terminal(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-ic", command], cwd=tmp_path, env=user.env, capture_output=True, text=True)

    install = readme_command(readme, "pipx install poetry==")
    user.sh(install)
    # As reported: installed, yet a new terminal cannot find it without the PATH step.
    assert new_terminal("command -v poetry").returncode != 0
    user.run_readme("pipx ensurepath")
    found = new_terminal("command -v poetry && poetry --version")
    assert found.stdout.splitlines() == [
        str(user.home / ".local" / "bin" / "poetry"),
        f"Poetry (version {install.rsplit('==', 1)[1]})",
    ], found.stderr


# --- what the README says, by answer --------------------------------------------------------


def test_readme_without_private_dependencies_does_not_claim_any(tmp_path: Path, git_server: GitServer) -> None:
    project = rendered(tmp_path, git_server, dependencies="")
    readme = (project / "README.md").read_text()
    assert "private repositories, installed straight from git" not in readme
    assert "It has no private dependencies yet; add one to `[tool.poetry.dependencies]`" in readme
    assert "## Check your access" not in readme and "check_private_deps.py" not in "\n".join(shell_lines(readme))
    assert "`poetry lock` reads the private repositories" not in readme
    # The repository itself is private: getting access and cloning stay.
    assert "to clone this private repository" in readme and "git clone https://" in readme
    assert "| package | repository |" not in readme


def test_readme_with_a_credentialed_index_tells_a_person_how_to_log_in(tmp_path: Path, git_server: GitServer) -> None:
    index = "https://nexus.example.com/repository/pypi/simple"
    project = rendered(tmp_path, git_server, package_index_url=index, package_index_credentials=True)
    readme = (project / "README.md").read_text()
    assert f"Poetry installs from the package index `{index}`, which needs your\nown credentials" in readme
    assert 'name = "mirror"' in (project / "pyproject.toml").read_text(), "the name the command uses"
    line = readme_command(readme, "http-basic.mirror")
    assert line == "poetry config http-basic.mirror YOUR_INDEX_USER"
    assert "PACKAGE_INDEX_USERNAME" in readme and "where build code of dependencies runs too" in readme

    # As written, with the user name filled in: Poetry asks for the password, shows nothing of it,
    # and keeps it outside the project (no keyring here: its own auth.toml, with a warning).
    user = person(tmp_path / "home", project, git_server, readme)
    password = new_token()
    status, transcript = user.in_terminal(line.replace("YOUR_INDEX_USER", "dev"), "Password:", password)
    assert status == 0, transcript
    assert password not in transcript
    stored = run(
        [
            str(BIN / "python"),
            "-c",
            "from poetry.config.config import Config; from poetry.utils.password_manager import PasswordManager; "
            "auth = PasswordManager(Config.create()).get_http_auth('mirror'); print(auth.username, auth.password)",
        ],
        tmp_path,
        user.env,
    ).stdout.split()
    assert stored == ["dev", password]
    assert files_containing(project, password) == [], "the password reached the project"

"""git credentials as the generated workflows hand them over, and the search for a token or
key left on disk or in a log afterwards."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

from support.gitserver import GitServer, SshGitServer
from support.modes import GIT_AUTH_MODES, name_of

TOKEN_SECRET = "POETRY_GIT_TOKEN"  # the template's default secret name
APP_CLIENT_ID = "Iv23liAcmeTestApp"
APP_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nnot used: the token step is replaced\n-----END RSA PRIVATE KEY-----"


Settings = tuple[dict[str, str], dict[str, str]]  # (secrets, vars)


def repository_settings(mode: str, secret: str, ssh: SshGitServer | None = None) -> Settings:
    """(secrets, vars) of a repository set up as the generated README says, for this git_auth
    mode: what its row of templates/git_auth/modes.yml reads, the secret given."""
    secrets, variables = {}, {}
    for read in GIT_AUTH_MODES[mode]["reads"]:
        name = name_of(read, TOKEN_SECRET)
        if read["kind"] == "secret":
            secrets[name] = secret
        elif name == "SSH_KNOWN_HOSTS":
            assert ssh is not None
            variables[name] = ssh.known_hosts_line
        else:
            variables[name] = {"APP_CLIENT_ID": APP_CLIENT_ID}[name]
    return secrets, variables


def ssh_client_for(ssh: SshGitServer, home: Path, tools: Path) -> None:
    """An `ssh` in `tools` that reaches the test's sshd as git@HOST reaches GitHub's.

    OpenSSH reads ~/.ssh/config from the passwd entry, not $HOME, and a user named in the
    destination (git@) beats the config's User. The test's sshd runs as the current user on a
    free port; on a runner, git@HOST:22 needs neither the config nor this shim."""
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    (home / ".ssh" / "config").write_text(ssh.ssh_config())
    (home / ".ssh" / "config").chmod(0o600)
    shim = tools / "ssh"
    shim.write_text(f'#!/bin/sh\nexec "{shutil.which("ssh")}" -F "$HOME/.ssh/config" -l "{ssh.user}" "$@"\n')
    shim.chmod(0o755)


def ssh_through_mount_namespace(ssh: SshGitServer, root: Path) -> list[str]:
    """A command prefix that starts a step where /usr/bin/ssh reaches the test's sshd as git@HOST:22
    reaches GitHub's: the credential step runs ssh by that path with `-F /dev/null`, so neither
    PATH nor a config file can point it at the test's port; a private mount namespace can. It
    needs root (or sudo without a password, as on GitHub's runners), unshare and setpriv; the
    step itself runs as this user again, its environment kept. The caller checks for them."""
    real = root / "real-ssh"
    shutil.copy("/usr/bin/ssh", real)
    shim = root / "ssh-to-test-server"
    shim.write_text(f'#!/bin/sh\nexec "{real}" -p "{ssh.port}" -l "{ssh.user}" "$@"\n')
    shim.chmod(0o755)
    inner = 'shim=$0 uid=$1 gid=$2; shift 2; mount --bind "$shim" /usr/bin/ssh && '
    inner += 'exec setpriv --reuid="$uid" --regid="$gid" --init-groups -- "$@"'
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n", "--preserve-env"]
    namespace = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", inner, str(shim)]
    return [*sudo, *namespace, str(os.getuid()), str(os.getgid())]


def credential_helper_env(server: GitServer, variable: str = "PRIVATE_GIT_TOKEN") -> dict[str, str]:
    """git's credential for the server as a bot's job gets it: a helper given only through
    GIT_CONFIG_* that reads the token from the environment variable `variable` (the generated
    workflows' form). Nothing is written to disk and no URL holds the token."""
    printf = 'printf "username=x-access-token\\npassword=%s\\n"'
    helper = f'!f() {{ test "$1" = get && {printf} "${{{variable}}}"; }}; f'
    url = f"https://{server.host}"
    return {
        variable: server.token,
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"credential.{url}.helper",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": f"credential.{url}.helper",
        "GIT_CONFIG_VALUE_1": helper,
        "GIT_TERMINAL_PROMPT": "0",
    }


def base64_forms(value: bytes) -> list[bytes]:
    """What base64 text must contain wherever `value` sits inside an encoded blob (3 alignments)."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value)
        forms.append(encoded[4 if offset else 0 : 4 * ((offset + len(value)) // 3)])
    return forms


def secret_needles(*secrets: str) -> list[bytes]:
    """Every form a token takes on disk or in a log: as it is, as the user:password pair of an
    HTTP Basic header, and both in base64 at any offset."""
    needles = []
    for secret in secrets:
        for value in (secret.encode(), f"x-access-token:{secret}".encode()):
            needles += [value, *base64_forms(value)]
    return needles


def ssh_key_needles(private_key: str) -> list[bytes]:
    """The body lines of a private key file, any of which gives it away."""
    body = [line for line in private_key.splitlines() if line and not line.startswith("-----")]
    return [line.encode() for line in body if len(line) >= 20]


def find_on_disk(root: Path, needles: list[bytes]) -> tuple[list[str], int]:
    """(files under root holding any needle, number of files read)."""
    hits, files = [], 0
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        files += 1
        if any(needle in path.read_bytes() for needle in needles):
            hits.append(str(path.relative_to(root)))
    return hits, files


def files_holding(root: Path, secret: str) -> list[str]:
    """Files under root that hold the token in any of its forms."""
    return find_on_disk(root, secret_needles(secret))[0]


def ssh_agents(session: int | None = None, under: Path | None = None) -> set[int]:
    """The ssh-agent processes running now (Linux's /proc); with `session`, only those of that
    session, and so of the process group a step was started in; with `under`, only those whose
    command line or environment names that folder (the credential step keeps SOURCES, a folder
    of the runner's temp)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "ssh-agent":
                if session is not None and os.getsid(int(entry.name)) != session:
                    continue
                if under is not None and not any(
                    str(under).encode() in (entry / name).read_bytes() for name in ("cmdline", "environ")
                ):
                    continue
                found.add(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return found

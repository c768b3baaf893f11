"""Private git repositories served like a GitHub organization, on 127.0.0.1 only.

    with GitServer(workdir) as server:
        server.url("core-lib")   # https://127.0.0.1:PORT/acme/core-lib.git
        server.env()             # SSL_CERT_FILE, REQUESTS_CA_BUNDLE, GIT_SSL_CAINFO -> CA bundle

- Smart HTTP over TLS (a throw-away CA signs the certificate for 127.0.0.1), git's own
  git-http-backend as CGI.
- HTTP Basic auth: the password is the token, any user name (GitHub's x-access-token style).
  No or wrong credentials: 401. A token that may not read a repository, or a repository that
  does not exist: 404, as GitHub answers both.
- Repositories (org `acme`, each tagged v1.0.0): `core-lib`, which also has a later release
  v1.1.0 (the newest commit of its main branch, for the update bots); `app-lib`, which depends on
  core-lib v1.0.0 by a private git reference; `secret-lib`, readable only by `other_token`.
- `publish(local_repository, name)` serves a copy of any local repository, its tags included,
  under the org to both tokens over HTTPS (a template's releases, for instance);
  `allow(token, name, write=True)` lets another token read it and push to it.
- `SshGitServer` serves the same repositories through a real sshd with its own config.

It lives here, beside the demo, because `python3 tasks.py demo` (demo/demo.py) runs it
for people, and a command people run must not import the test suite. The tests use this same
server (tests/support/gitserver.py adds their session fixture), so the demo shows what the
tests prove; quality/benchmark.py times installs against it. It needs `cryptography` (in the
template's .venv) for the certificates; everything else is the standard library and git.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_PATH = re.compile(r"^/(?P<org>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?(?P<rest>/.*)$")
TAG = "v1.0.0"
LATER_TAG = "v1.1.0"  # core-lib's newer release


def git_http_backend() -> Path:
    """git's CGI program for smart HTTP, where this git keeps its helper programs."""
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=False).stdout.strip()
    return Path(exec_path or "/usr/lib/git-core") / "git-http-backend"


def new_token() -> str:
    """A fresh, GitHub-shaped token: a search for it on disk finds nothing by accident."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


def git_env() -> dict[str, str]:
    """git for building the fixture repositories: no user or system config leaks in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Acme",
        GIT_AUTHOR_EMAIL="dev@acme.test",
        GIT_COMMITTER_NAME="Acme",
        GIT_COMMITTER_EMAIL="dev@acme.test",
    )
    return env


# --- certificates ----------------------------------------------------------------------


def system_ca_file() -> Path:
    """The CA bundle this machine trusts, so tools still reach the package index."""
    candidates = [
        os.environ.get("SSL_CERT_FILE"),
        ssl.get_default_verify_paths().cafile,
        ssl.get_default_verify_paths().openssl_cafile,
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    import certifi  # Poetry's own dependency: the fallback when the system has no bundle file

    return Path(certifi.where())


def make_certificates(directory: Path) -> tuple[Path, Path, Path, Path]:
    """(CA certificate, server certificate, server key, combined bundle) for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file, bundle = (
        directory / name for name in ("ca.pem", "server.pem", "server-key.pem", "ca-bundle.pem")
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    ca_file.write_bytes(ca_pem)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    bundle.write_bytes(system_ca_file().read_bytes().rstrip(b"\n") + b"\n" + ca_pem)
    return ca_file, cert_file, key_file, bundle


# --- repositories ----------------------------------------------------------------------


def _package(name: str, body: str, dependencies: str = "", version: str = "1.0.0") -> dict[str, str]:
    module = name.replace("-", "_")
    return {
        "pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.9"\n'
            'dynamic = ["dependencies"]\n\n'
            f'[tool.poetry]\npackages = [{{ include = "{module}", from = "src" }}]\n\n'
            f"[tool.poetry.dependencies]\n{dependencies}\n"
            '[build-system]\nrequires = ["poetry-core>=2.0,<3"]\nbuild-backend = "poetry.core.masonry.api"\n'
        ),
        f"src/{module}/__init__.py": body,
    }


def make_repository(
    bare: Path, files: dict[str, str], tag: str = TAG, later: dict[str, dict[str, str]] | None = None
) -> None:
    """A bare repository with one commit holding `files`, tagged `tag`; then one commit on main
    per entry of `later` (tag -> files it changes), tagged too."""
    work = bare.with_name(bare.name.removesuffix(".git") + ".work")
    env = git_env()

    def git(*arguments: str) -> None:
        subprocess.run(["git", *arguments], cwd=work, env=env, check=True, capture_output=True)

    work.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    for release, changed in {tag: files, **(later or {})}.items():
        for relative, text in changed.items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_text(text)
        git("add", "-A")
        git("commit", "-q", "-m", f"Release {release}")
        git("tag", release)
    git("clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)


# --- the HTTPS server ------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    repository: str  # org/repo, "" when the path names none
    authenticated: bool
    status: int


class _Handler(BaseHTTPRequestHandler):
    server: _TLSServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the request log below is what tests read

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _token(self) -> str | None:
        kind, _, value = self.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            _user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:
            return None
        return password

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        body = self._body() if self.command == "POST" else b""
        path, _, query = self.path.partition("?")
        match = REPO_PATH.match(path)
        repository = f"{match['org']}/{match['repo']}" if match else ""
        token = self._token() or ""
        known = token in self.server.git.tokens
        if not known:
            status = 401
            self._reply(401, b"Authentication failed\n", {"WWW-Authenticate": 'Basic realm="Acme git"'})
        elif not match or repository not in self.server.git.readable(token):
            status = 404  # GitHub's answer for both "missing" and "not yours"
            self._reply(404, b"Repository not found.\n")
        elif match["rest"].endswith("git-receive-pack") or "service=git-receive-pack" in query:
            if repository in self.server.git.writable.get(token, set()):
                status = self._cgi(f"/{repository}.git{match['rest']}", query, body, pusher=token)
            else:
                status = 403
                self._reply(403, b"Read-only\n")
        else:
            status = self._cgi(f"/{repository}.git{match['rest']}", query, body)
        self.server.git.record(Request(self.command, repository, known, status))

    def _cgi(self, path_info: str, query: str, body: bytes, pusher: str = "") -> int:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.git.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            # As GitHub does: a client may fetch a commit by its hash (`fetch --depth 1 URL SHA`).
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "uploadpack.allowAnySHA1InWant",
            "GIT_CONFIG_VALUE_0": "true",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if pusher:  # git-http-backend takes pushes from an authenticated user only
            env["REMOTE_USER"] = self.server.git.user
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        result = subprocess.run([str(self.server.backend)], input=body, env=env, capture_output=True, timeout=60)
        head, blank, content = result.stdout.partition(b"\r\n\r\n")
        if not blank:
            head, blank, content = result.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        if result.returncode and not head:
            status, content = 500, result.stderr
        self._reply(status, content, headers)
        return status


class TLSServer(ThreadingHTTPServer):
    """An HTTPS server on a thread per request (also the tests' stub of GitHub's API)."""

    daemon_threads = True
    context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake happens in the request's own thread: a stalled client cannot block accept().
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


class _TLSServer(TLSServer):
    git: GitServer
    backend: Path

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-request are normal for git; failures show in the request log


class GitServer:
    """The organization's private repositories over HTTPS with Basic auth (see the module doc)."""

    org = "acme"
    user = "x-access-token"

    def __init__(self, workdir: Path, token: str | None = None) -> None:
        self.workdir = Path(workdir)
        self.root = self.workdir / "repositories"
        self.token = token or new_token()
        self.other_token = new_token()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self.host = ""
        self.ca_file = self.ca_bundle = Path()
        # Which token reads which repository: the main token cannot read secret-lib.
        self.access = {
            self.token: {f"{self.org}/core-lib", f"{self.org}/app-lib"},
            self.other_token: {f"{self.org}/core-lib", f"{self.org}/app-lib", f"{self.org}/secret-lib"},
        }
        self.writable: dict[str, set[str]] = {}  # token -> repositories it may push to (`allow`)

    @property
    def tokens(self) -> set[str]:
        return set(self.access)

    def readable(self, token: str) -> set[str]:
        return self.access.get(token, set())

    def access_file(self, token: str) -> Path:
        """The repositories `token` reads, a line each, for other processes (the SSH server's
        forced command): rewritten whenever a repository is published."""
        return self.workdir / "access" / hashlib.sha256(token.encode()).hexdigest()

    def _write_access(self) -> None:
        for token, readable in self.access.items():
            path = self.access_file(token)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".new").write_text("".join(f"{name}\n" for name in sorted(readable)))
            path.with_suffix(".new").replace(path)  # a reader sees the old list or the new one

    def url(self, repo: str, org: str | None = None) -> str:
        return f"https://{self.host}/{org or self.org}/{repo}.git"

    def env(self) -> dict[str, str]:
        """Trust the test CA (and the system's CAs): dulwich and requests read SSL_CERT_FILE and
        REQUESTS_CA_BUNDLE, system git reads GIT_SSL_CAINFO."""
        bundle = str(self.ca_bundle)
        return {"SSL_CERT_FILE": bundle, "REQUESTS_CA_BUNDLE": bundle, "GIT_SSL_CAINFO": bundle}

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def take_requests(self) -> list[Request]:
        """The requests since the last call."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def start(self) -> GitServer:
        backend = git_http_backend()
        if not backend.exists():
            raise RuntimeError(f"{backend} is missing (it ships with git)")
        self._server = _TLSServer(("127.0.0.1", 0), _Handler)
        self._server.git = self
        self._server.backend = backend
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.ca_file, cert, key, self.ca_bundle = make_certificates(self.workdir / "tls")
        self._server.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server.context.load_cert_chain(cert, key)
        self._make_repositories()
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-server", daemon=True)
        self._thread.start()
        return self

    def _make_repositories(self) -> None:
        org = self.root / self.org
        org.mkdir(parents=True, exist_ok=True)
        make_repository(
            org / "core-lib.git",
            _package("core-lib", 'VALUE = "core 1.0.0"\n'),
            later={LATER_TAG: _package("core-lib", 'VALUE = "core 1.1.0"\n', version="1.1.0")},
        )
        make_repository(
            org / "app-lib.git",
            _package(
                "app-lib",
                'from core_lib import VALUE\n\n\ndef describe() -> str:\n    return f"app 1.0.0 on {VALUE}"\n',
                f'core-lib = {{ git = "{self.url("core-lib")}", tag = "{TAG}" }}\n',
            ),
        )
        make_repository(org / "secret-lib.git", _package("secret-lib", 'VALUE = "secret"\n'))
        self._write_access()

    def publish(self, repository: Path, name: str) -> str:
        """Serve a bare copy of a local repository (branches and tags) as `org/name`, readable by
        both tokens; returns its URL."""
        bare = self.root / self.org / f"{name}.git"
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--", str(repository), str(bare)],
            env=git_env(),
            check=True,
            capture_output=True,
        )
        with self._lock:
            for readable in self.access.values():
                readable.add(f"{self.org}/{name}")
            self._write_access()
        return self.url(name)

    def allow(self, token: str, name: str, write: bool = False) -> None:
        """Let `token` read (and with `write`, push to) `org/name`, as an App token is scoped."""
        with self._lock:
            self.access.setdefault(token, set()).add(f"{self.org}/{name}")
            if write:
                self.writable.setdefault(token, set()).add(f"{self.org}/{name}")
            self._write_access()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the same repositories over SSH ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The forced command of the deploy key: serve git-upload-pack for the repositories the key may
# read, from the server's root, whatever path the client asked for; anything else is refused.
FORCED_COMMAND = r"""
import os, re, shlex, sys
root, allowed = sys.argv[1], set(open(sys.argv[2]).read().split())
words = shlex.split(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
match = len(words) == 2 and words[0] in ("git-upload-pack", "git upload-pack") and re.fullmatch(
    r"/?([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?", words[1])
if not match or match[1] not in allowed:
    sys.stderr.write("ERROR: Repository not found.\n")
    sys.exit(1)
os.execvp("git", ["git", "-c", "uploadpack.allowAnySHA1InWant=true", "upload-pack", "--strict",
                  os.path.join(root, match[1] + ".git")])
"""


class SshGitServer:
    """A real sshd on 127.0.0.1 serving a GitServer's repositories to one deploy key.

    Runs as the current user with its own config, host key and authorized_keys. The key reads the
    same repositories as the HTTPS server's main token.
    """

    def __init__(self, git: GitServer, workdir: Path, sshd: str = "/usr/sbin/sshd") -> None:
        self.git = git
        self.workdir = Path(workdir)
        self.sshd = sshd
        self.port = 0
        self.user = pwd.getpwuid(os.getuid()).pw_name  # a non-root sshd lets in only its own user
        self.client_key = self.workdir / "deploy_key"
        self.known_hosts_line = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def private_key(self) -> str:
        return self.client_key.read_text()

    def start(self) -> SshGitServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        host_key = self.workdir / "host_ed25519"
        for key in (host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key.name, "-f", str(key)],
                check=True,
                capture_output=True,
            )
        forced = self.workdir / "serve_git.py"
        forced.write_text(FORCED_COMMAND)
        # Read at each connection: a repository published later is served too.
        allowed = self.git.access_file(self.git.token)
        command = shlex.join([sys.executable, str(forced), str(self.git.root), str(allowed)])
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(
            f'command="{command}",restrict {self.client_key.with_suffix(".pub").read_text().strip()}\n'
        )
        authorized.chmod(0o600)
        if os.geteuid() == 0:
            # sshd started by root needs its privilege-separation directory (systemd makes it on hosts).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        for _attempt in range(5):
            self.port = free_port()
            config = self.workdir / "sshd_config"
            config.write_text(
                "\n".join(
                    [
                        f"ListenAddress 127.0.0.1:{self.port}",
                        f"HostKey {host_key}",
                        f"AuthorizedKeysFile {authorized}",
                        f"PidFile {self.workdir / 'sshd.pid'}",
                        f"AllowUsers {self.user}",
                        "AuthenticationMethods publickey",
                        "PasswordAuthentication no",
                        "KbdInteractiveAuthentication no",
                        "PermitRootLogin prohibit-password",
                        "UsePAM no",
                        "StrictModes no",  # the pytest temp tree's permissions are not a home directory's
                        "AcceptEnv GIT_PROTOCOL",
                        "LogLevel ERROR",
                        "",
                    ]
                )
            )
            self._process = subprocess.Popen(
                [self.sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            if self._wait_listening():
                break
            self.stop()
        else:
            raise RuntimeError("sshd did not start")
        host_public = host_key.with_suffix(".pub").read_text().split()
        self.known_hosts_line = f"[127.0.0.1]:{self.port} {host_public[0]} {host_public[1]}"
        return self

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    return connection.recv(4).startswith(b"SSH-")
            except OSError:
                time.sleep(0.05)
        return False

    def ssh_config(self) -> str:
        """~/.ssh/config lines for 127.0.0.1: this server's port and account.

        A user in the destination (`git@127.0.0.1`) beats `User`, and OpenSSH finds ~ through the
        passwd entry, not $HOME: callers that keep git's `git@` URLs also pass `-F` and `-l user`.
        """
        return f"Host 127.0.0.1\n  Port {self.port}\n  User {self.user}\n"

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> SshGitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

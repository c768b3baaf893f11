"""A stub of the GitHub REST API of an Enterprise Server with a port, on 127.0.0.1 over TLS.

    with GitHubApi(workdir, "acme/project", token) as api:
        api.host             # 127.0.0.1:PORT, the GH_HOST the real GitHub CLI is given
        api.env()            # SSL_CERT_FILE: the system's CAs and gitserver's test CA
        api.ci_runs = [None, "in_progress", "success"]   # CI's state at each poll
        api.requests         # every request: method, path, query, Host header, token, JSON body

Serves the paths an Enterprise Server serves (REST under /api/v3, GraphQL at /api/graphql,
uploads under /api/uploads) for one repository, to one token sent as gh sends it
(`Authorization: token ...`); a wrong or missing token gets 401 and anything else 404, with
GitHub's JSON message:

- GET  /api/v3/repos/R/actions/workflows/ci.yml/runs?head_sha=SHA&event=push[&branch=B]: CI's
  push run on `ci_sha` to the branch `ci_branch`, one state of `ci_runs` per request (the last
  repeats): None (no run yet), a status ("queued", "in_progress") or a conclusion of a
  completed run ("success", "failure", ...). Another sha, event, branch or workflow finds no
  run, as GitHub's filter would.
- GET  /api/v3/repos/R/compare/BASE...HEAD: where HEAD stands against BASE, one of `compare`
  per request (the last repeats): "behind" or "identical" when HEAD is in BASE's history,
  "ahead" or "diverged" when it is not.
- GET /api/v3/users/LOGIN: a user (any login, the id of a bot); POST /repos/R/pulls: a pull
  request opened, its JSON kept in `pulls`.
- What gh 2.23's `release create TAG FILES --verify-tag --generate-notes --title T` calls, as
  watched: the GraphQL query for the tag's ref (`tags` holds the tags the repository has), HEAD
  /repos/R/releases/tags/TAG (is there a release already?), POST /repos/R/releases (a draft,
  with generate_release_notes), one POST per file to the `upload_url` it returned, and PATCH
  /repos/R/releases/ID to publish it; `releases` keeps what was made, files included.

The certificate comes from tests/support/gitserver.py's `make_certificates`, as the git
server's does: a test CA signs it for 127.0.0.1, and `env()` hands the bundle of the system's
CAs and that one to the client.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.gitserver import TLSServer, make_certificates

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/enterprise-server/rest"}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    host: str  # the Host header: which host and port the client meant
    token: str | None  # from `Authorization: token ...` (or Bearer)
    body: Any  # JSON body, or the raw bytes of an upload


@dataclass
class Release:
    id: int
    tag_name: str
    name: str
    body: str
    draft: bool
    generated_notes: bool  # asked GitHub to write the notes
    assets: dict[str, bytes] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _TLSServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a client may stall mid-request

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the request log is what tests read

    def _serve(self) -> None:
        api = self.server.api
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind, _, credential = self.headers.get("Authorization", "").partition(" ")
        token = credential if kind.lower() in ("token", "bearer") else None
        parts = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        body: Any = raw  # an upload's bytes as they came; every other body is JSON
        if raw and not parts.path.startswith("/api/uploads/"):
            try:
                body = json.loads(raw)
            except ValueError:
                pass
        request = ApiRequest(self.command, parts.path, query, self.headers.get("Host", ""), token, body)
        api.record(request)
        if token != api.token:
            status, reply = 401, {"message": "Bad credentials", "documentation_url": NOT_FOUND["documentation_url"]}
        else:
            status, reply = api.answer(request)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _TLSServer(TLSServer):
    api: GitHubApi


class GitHubApi:
    """The stub (see the module doc)."""

    def __init__(self, workdir: Path, repository: str, token: str) -> None:
        self.workdir = Path(workdir)
        self.repository = repository
        self.token = token
        self.host = ""
        self.ca_bundle = Path()
        self.ci_sha = ""
        self.ci_runs: list[str | None] = [None]
        self.ci_branch = "main"
        self.compare: list[str] = ["behind"]
        self.tags: set[str] = set()
        self.releases: dict[int, Release] = {}
        self.pulls: list[Any] = []  # the JSON of each pull request opened
        self.requests: list[ApiRequest] = []
        self._lock = threading.Lock()
        self._server: _TLSServer | None = None

    def env(self) -> dict[str, str]:
        """Go programs such as gh read SSL_CERT_FILE for the CAs they trust."""
        return {"SSL_CERT_FILE": str(self.ca_bundle)}

    def record(self, request: ApiRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def take_requests(self) -> list[ApiRequest]:
        """The requests since the last call."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    # --- answers ------------------------------------------------------------------------

    def answer(self, request: ApiRequest) -> tuple[int, Any]:
        rest = f"/api/v3/repos/{self.repository}/"
        with self._lock:
            if request.method == "GET" and request.path == f"{rest}actions/workflows/ci.yml/runs":
                return 200, self._ci_runs(request.query)
            if request.method == "GET" and request.path.startswith(f"{rest}compare/"):
                status = self.compare[0] if len(self.compare) == 1 else self.compare.pop(0)
                return 200, {"status": status}
            if request.method == "GET" and request.path.startswith("/api/v3/users/"):
                login = unquote(request.path.removeprefix("/api/v3/users/"))
                return 200, {"login": login, "id": 41898282, "type": "Bot"}
            if request.method == "POST" and request.path == f"{rest}pulls":
                self.pulls.append(request.body)
                number = len(self.pulls)
                return 201, {"number": number, "html_url": f"https://{self.host}/{self.repository}/pull/{number}"}
            if request.method == "POST" and request.path == "/api/graphql":
                return self._graphql(request.body)
            if request.method == "POST" and request.path == f"{rest}releases":
                return self._create_release(request.body)
            if request.method in ("GET", "HEAD") and request.path.startswith(f"{rest}releases/tags/"):
                tag = request.path.removeprefix(f"{rest}releases/tags/")
                found = [release for release in self.releases.values() if release.tag_name == tag]
                if found:
                    return 200, self._release_json(found[0])
            release = self._release_for(request.path, rest)
            if release is not None and request.method == "PATCH":
                for key in ("draft", "name", "body", "tag_name"):
                    if key in request.body:
                        setattr(release, key, request.body[key])
                return 200, self._release_json(release)
            uploads = f"/api/uploads/repos/{self.repository}/releases/"
            if request.method == "POST" and request.path.startswith(uploads) and request.path.endswith("/assets"):
                number = request.path.removeprefix(uploads).removesuffix("/assets")
                target = self.releases.get(int(number)) if number.isdigit() else None
                if target is not None and "name" in request.query:
                    target.assets[request.query["name"]] = bytes(request.body)
                    return 201, {"name": request.query["name"], "size": len(request.body), "state": "uploaded"}
        return 404, NOT_FOUND

    def _ci_runs(self, query: dict[str, str]) -> dict[str, Any]:
        state = self.ci_runs[0] if len(self.ci_runs) == 1 else self.ci_runs.pop(0)
        branch = query.get("branch", self.ci_branch)
        if (
            state is None
            or query.get("head_sha") != self.ci_sha
            or query.get("event") != "push"
            or branch != self.ci_branch
        ):
            return {"total_count": 0, "workflow_runs": []}
        completed = state not in ("queued", "in_progress", "waiting", "pending")
        run = {
            "id": 4242,
            "name": "CI",
            "head_sha": self.ci_sha,
            "event": "push",
            "head_branch": self.ci_branch,
            "status": "completed" if completed else state,
            "conclusion": state if completed else None,
            "html_url": f"https://{self.host}/{self.repository}/actions/runs/4242",
        }
        return {"total_count": 1, "workflow_runs": [run]}

    def _graphql(self, body: Any) -> tuple[int, Any]:
        query = body.get("query", "") if isinstance(body, dict) else ""
        variables = body.get("variables") or {} if isinstance(body, dict) else {}
        owner, _, name = self.repository.partition("/")
        if "ref(qualifiedName:" in query and (variables.get("owner"), variables.get("name")) == (owner, name):
            tag = str(variables.get("tagName", "")).removeprefix("refs/tags/")
            ref = {"id": f"REF_{tag}"} if tag in self.tags else None
            return 200, {"data": {"repository": {"ref": ref}}}
        return 200, {"errors": [{"message": "this stub does not answer that query"}]}

    def _create_release(self, body: dict[str, Any]) -> tuple[int, Any]:
        release = Release(
            id=len(self.releases) + 1,
            tag_name=body["tag_name"],
            name=body.get("name", ""),
            body=body.get("body", ""),
            draft=bool(body.get("draft", False)),
            generated_notes=bool(body.get("generate_release_notes", False)),
        )
        self.releases[release.id] = release
        return 201, self._release_json(release)

    def _release_for(self, path: str, rest: str) -> Release | None:
        number = path.removeprefix(f"{rest}releases/")
        return self.releases.get(int(number)) if path != number and number.isdigit() else None

    def _release_json(self, release: Release) -> dict[str, Any]:
        api = f"https://{self.host}/api/v3/repos/{self.repository}/releases/{release.id}"
        return {
            "id": release.id,
            "tag_name": release.tag_name,
            "name": release.name,
            "body": release.body,
            "draft": release.draft,
            "url": api,
            "html_url": f"https://{self.host}/{self.repository}/releases/tag/{release.tag_name}",
            "upload_url": (
                f"https://{self.host}/api/uploads/repos/{self.repository}/releases/{release.id}/assets{{?name,label}}"
            ),
            "assets": [{"name": name, "size": len(data)} for name, data in release.assets.items()],
        }

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> GitHubApi:
        self._server = _TLSServer(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        _ca, cert, key, self.ca_bundle = make_certificates(self.workdir / "tls")
        self._server.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server.context.load_cert_chain(cert, key)
        threading.Thread(target=self._server.serve_forever, name="github-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

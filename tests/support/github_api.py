"""The GitHub REST API of an Enterprise Server with a port, on 127.0.0.1 over TLS, for the real
GitHub CLI (`gh`) that the release workflow runs.

    with GitHubApi(workdir, "acme/project", token) as api:
        api.host             # 127.0.0.1:PORT, the GH_HOST the real GitHub CLI is given
        api.env()            # SSL_CERT_FILE: the system's CAs and gitserver's test CA
        api.ci_sha = SHA     # the commit CI's push run is for (on the branch api.ci_branch)
        api.ci_runs = [None, "in_progress", "success"]   # CI's state at each poll
        api.compare = ["behind"]   # where a head stands against a base, at each request
        api.tags             # the tags the repository has (gh asks for the tag's ref)
        api.releases         # the releases made: Release(id, tag_name, name, body, draft, ...)
        api.pulls            # the JSON of each pull request opened
        api.take_requests()  # the requests since the last call, as ApiRequest(method, path,
                             # query, host, token, body)
        api.server           # pytest-httpserver's HTTPServer, for a test's own expectation:
                             # api.server.expect_oneshot_request(path).respond_with_json(...)
                             # answers before the paths below (so do ordered ones)

pytest-httpserver serves it (TLS, routing, the request log); this module adds what GitHub
answers, which no library knows: the state above, one token sent as gh sends it
(`Authorization: token ...`; a wrong or missing one gets 401), and GitHub's JSON 404 for any
other path. The paths, as an Enterprise Server serves them (REST under /api/v3, GraphQL at
/api/graphql, uploads under /api/uploads), for the one repository:

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
  watched: the GraphQL query for the tag's ref, HEAD /repos/R/releases/tags/TAG (is there a
  release already?), POST /repos/R/releases (a draft, with generate_release_notes), one POST per
  file to the `upload_url` it returned, and PATCH /repos/R/releases/ID to publish it.

The certificate comes from tests/support/gitserver.py's `make_certificates`, as the git
server's does: a test CA signs it for 127.0.0.1, and `env()` hands the bundle of the system's
CAs and that one to the client.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from support.gitserver import make_certificates

DOCUMENTATION = "https://docs.github.com/enterprise-server/rest"
NOT_FOUND = {"message": "Not Found", "documentation_url": DOCUMENTATION}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    host: str  # the Host header: which host and port the client meant
    token: str | None  # from `Authorization: token ...` (or Bearer)
    body: Any  # JSON body, or the raw bytes of an upload

    @classmethod
    def of(cls, request: Request) -> ApiRequest:
        kind, _, credential = request.headers.get("Authorization", "").partition(" ")
        raw = request.get_data()
        body: Any = raw  # an upload's bytes as they came; every other body is JSON
        if raw and not request.path.startswith("/api/uploads/"):
            try:
                body = json.loads(raw)
            except ValueError:
                pass
        return cls(
            request.method,
            request.path,
            {name: values[-1] for name, values in request.args.lists()},
            request.headers.get("Host", ""),
            credential if kind.lower() in ("token", "bearer") else None,
            body,
        )


@dataclass
class Release:
    id: int
    tag_name: str
    name: str
    body: str
    draft: bool
    generated_notes: bool  # asked GitHub to write the notes
    assets: dict[str, bytes] = field(default_factory=dict)


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
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._lock = threading.Lock()
        self._seen = 0  # how much of the server's request log take_requests() has handed out

    def env(self) -> dict[str, str]:
        """Go programs such as gh read SSL_CERT_FILE for the CAs they trust."""
        return {"SSL_CERT_FILE": str(self.ca_bundle)}

    @property
    def requests(self) -> list[ApiRequest]:
        """The requests not taken yet."""
        return [ApiRequest.of(request) for request, _ in self.server.log[self._seen :]]

    def take_requests(self) -> list[ApiRequest]:
        """The requests since the last call."""
        with self._lock:
            log = self.server.log[self._seen :]
            self._seen += len(log)
        return [ApiRequest.of(request) for request, _ in log]

    # --- answers ------------------------------------------------------------------------

    def _route(self, path: str, method: str, answer: Callable[[ApiRequest, re.Match[str]], tuple[int, Any]]) -> None:
        pattern = re.compile(path)

        def handler(request: Request) -> Response:
            api_request = ApiRequest.of(request)
            if api_request.token != self.token:
                status, reply = 401, {"message": "Bad credentials", "documentation_url": DOCUMENTATION}
            else:
                match = pattern.fullmatch(request.path)
                assert match, request.path
                with self._lock:
                    status, reply = answer(api_request, match)
            return Response(json.dumps(reply), status, content_type="application/json; charset=utf-8")

        self.server.expect_request(pattern, method=method).respond_with_handler(handler)

    def _serve_paths(self) -> None:
        rest = f"/api/v3/repos/{re.escape(self.repository)}/"
        uploads = f"/api/uploads/repos/{re.escape(self.repository)}/"
        self._route(f"{rest}actions/workflows/ci\\.yml/runs", "GET", self._ci_runs)
        self._route(f"{rest}compare/.+", "GET", self._compare)
        self._route("/api/v3/users/(?P<login>[^/]+)", "GET", self._user)
        self._route(f"{rest}pulls", "POST", self._open_pull)
        self._route("/api/graphql", "POST", self._graphql)
        self._route(f"{rest}releases", "POST", self._create_release)
        for method in ("GET", "HEAD"):
            self._route(f"{rest}releases/tags/(?P<tag>.+)", method, self._release_of_tag)
        self._route(f"{rest}releases/(?P<id>[0-9]+)", "PATCH", self._update_release)
        self._route(f"{uploads}releases/(?P<id>[0-9]+)/assets", "POST", self._upload)
        self._route(".*", "__ALL", lambda request, match: (404, NOT_FOUND))  # registered last: matched last

    def _ci_runs(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        state = self.ci_runs[0] if len(self.ci_runs) == 1 else self.ci_runs.pop(0)
        query = request.query
        found = (query.get("head_sha"), query.get("event"), query.get("branch", self.ci_branch))
        if state is None or found != (self.ci_sha, "push", self.ci_branch):
            return 200, {"total_count": 0, "workflow_runs": []}
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
        return 200, {"total_count": 1, "workflow_runs": [run]}

    def _compare(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        status = self.compare[0] if len(self.compare) == 1 else self.compare.pop(0)
        return 200, {"status": status}

    def _user(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        return 200, {"login": match["login"], "id": 41898282, "type": "Bot"}

    def _open_pull(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        self.pulls.append(request.body)
        number = len(self.pulls)
        return 201, {"number": number, "html_url": f"https://{self.host}/{self.repository}/pull/{number}"}

    def _graphql(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        query, variables = body.get("query", ""), body.get("variables") or {}
        owner, _, name = self.repository.partition("/")
        if "ref(qualifiedName:" in query and (variables.get("owner"), variables.get("name")) == (owner, name):
            tag = str(variables.get("tagName", "")).removeprefix("refs/tags/")
            ref = {"id": f"REF_{tag}"} if tag in self.tags else None
            return 200, {"data": {"repository": {"ref": ref}}}
        return 200, {"errors": [{"message": "this stub does not answer that query"}]}

    def _create_release(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        body = request.body
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

    def _release_of_tag(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        found = [release for release in self.releases.values() if release.tag_name == match["tag"]]
        return (200, self._release_json(found[0])) if found else (404, NOT_FOUND)

    def _update_release(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        release = self.releases.get(int(match["id"]))
        if release is None:
            return 404, NOT_FOUND
        for key in ("draft", "name", "body", "tag_name"):
            if key in request.body:
                setattr(release, key, request.body[key])
        return 200, self._release_json(release)

    def _upload(self, request: ApiRequest, match: re.Match[str]) -> tuple[int, Any]:
        release = self.releases.get(int(match["id"]))
        if release is None or "name" not in request.query:
            return 404, NOT_FOUND
        release.assets[request.query["name"]] = bytes(request.body)
        return 201, {"name": request.query["name"], "size": len(request.body), "state": "uploaded"}

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
        _ca, cert, key, self.ca_bundle = make_certificates(self.workdir / "tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.ssl_context = context
        self._serve_paths()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # tests read `requests`, not an access log
        self.server.start()
        self.host = f"127.0.0.1:{self.server.port}"
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def __enter__(self) -> GitHubApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

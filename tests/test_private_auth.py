"""CI's credential job fetches the private dependencies with the org secret; the jobs that
install, lint and test never hold it. All of it for real.

Each test renders a project whose private dependencies live on the session's HTTPS git server
(tests/support/gitserver.py; SSH mode adds a real sshd), locks it as a developer would, and runs
the rendered ci.yml's jobs one after another (tests/support/workflow_jobs.py), each on a fresh
runner (its own checkout, HOME, runner temporary folder and TMPDIR): the credential job's own
steps, then the lint and test jobs with the setup action's steps, `poetry sync`, the pre-commit
hooks and pytest. Only what needs GitHub is replaced: setup-python (this interpreter), Poetry's
install (the pinned one is on PATH), the Actions cache (a folder per key, shared by the run's
jobs) and the GitHub App's token (the server's test token).

One private library, canary-lib, records what third-party code in the jobs that install can see:
its build backend, a pytest plugin it registers and a pre-commit hook that imports it each record
their environment, what `git credential fill` answers for the git host, what every SSH agent
socket they can find answers, and a copy of every readable file under the runner's HOME and
temporary folder. None of it may hold a credential.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import package_index_url, render, run, tool_env
from support.expressions import ExpressionError
from support.git_credentials import (
    APP_CLIENT_ID,
    APP_PRIVATE_KEY,
    TOKEN_SECRET,
    credential_helper_env,
    find_on_disk,
    repository_settings,
    secret_needles,
    ssh_agents,
    ssh_key_needles,
    ssh_through_mount_namespace,
)
from support.gitserver import GitServer, SshGitServer, new_token
from support.modes import GIT_AUTH_MODES, secret_of
from support.workflow_jobs import CacheService, JobRun, Runner
from support.workflow_steps import ActionRun, Context, StepResult, WorkflowError

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def one_test_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This file's tests take turns across the workers: an SSH-mode credential step's agent lives
    in the machine's /tmp while the step runs, where another test's canary, scanning /tmp as code
    on a runner would, could reach it. (The lock file sits where every worker's base temp is.)"""
    lock = tmp_path_factory.getbasetemp().parent / "test_private_auth.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


MODES = tuple(GIT_AUTH_MODES)
CREDENTIAL_JOB = "private-sources"
FETCH_STEP = "Check access to the private dependencies and fetch them"
INSTALL_STEP = "Install the dependencies"
# app-lib depends on core-lib by a private git reference: the lock lists both, and the credential
# must cover both in every mode; canary-lib records what third-party code sees.
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0, canary-lib@v1.0.0"
MISSING_SECRET = {mode: secret_of(mode, TOKEN_SECRET) for mode in MODES}
# Only canary-lib's source holds it: a cache that holds it holds private code.
CANARY_MARKER = "CANARY-PRIVATE-SOURCE-MARKER"
CANARY_PROBE = '''\
"""What code running here can see, appended as one JSON line to RECORD; readable files copied."""
import json, os, shutil, stat, subprocess

RECORD = {record!r}
HOST = {host!r}
LIMIT = 1 << 20  # larger files are the index's wheels


def _walk(root, depth):
    root = os.path.abspath(root)
    for folder, folders, names in os.walk(root):
        if folder.count(os.sep) - root.count(os.sep) >= depth:
            folders[:] = []
        for name in names:
            yield os.path.join(folder, name)


def _sockets(roots):
    found = []
    for root, depth in roots:
        for path in _walk(root, depth):
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
    return found


def record(stage):
    env = dict(os.environ)
    git = subprocess.run(["git", "credential", "fill"], input="protocol=https\\nhost=" + HOST + "\\n\\n",
                         capture_output=True, text=True, env=dict(env, GIT_TERMINAL_PROMPT="0"))
    homes = [path for path in (env.get("HOME"), env.get("RUNNER_TEMP")) if path]
    sockets = [env["SSH_AUTH_SOCK"]] if env.get("SSH_AUTH_SOCK") else []
    sockets += _sockets([("/tmp", 2)] + [(path, 99) for path in homes])
    agents = {{}}
    for path in sockets:
        try:
            answer = subprocess.run(["ssh-add", "-L"], env=dict(env, SSH_AUTH_SOCK=path), capture_output=True,
                                    text=True, timeout=10)
            agents[path] = [answer.returncode, answer.stdout + answer.stderr]
        except (OSError, subprocess.SubprocessError) as error:
            agents[path] = [-1, str(error)]
    number = sum(1 for _ in open(RECORD)) if os.path.exists(RECORD) else 0
    seen = os.path.join(os.path.dirname(RECORD), "seen", str(number))
    copied = 0
    for root in homes:
        for path in _walk(root, 99):
            try:
                if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > LIMIT:
                    continue
                target = os.path.join(seen, path.lstrip(os.sep))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(path, target)
                copied += 1
            except OSError:
                pass
    with open(RECORD, "a") as out:
        out.write(json.dumps({{"stage": stage, "env": env, "credential_fill": [git.returncode, git.stdout],
                              "agents": agents, "seen": seen, "copied": copied}}) + "\\n")
'''
CANARY_PLUGIN = """\
def pytest_configure(config):
    from canary_lib.probe import record

    record("pytest")
"""
CANARY_BACKEND = '''\
"""A PEP 517 backend that records what build code can see, then builds a wheel of canary_lib."""
import base64, hashlib, os, zipfile

from canary_lib.probe import record

INFO = "canary_lib-1.0.0.dist-info/"
FILES = {{
    "canary_lib/__init__.py": "MARKER = {marker!r}\\n",
    "canary_lib/probe.py": open(os.path.join(os.path.dirname(__file__), "canary_lib", "probe.py")).read(),
    "canary_lib/plugin.py": open(os.path.join(os.path.dirname(__file__), "canary_lib", "plugin.py")).read(),
    INFO + "METADATA": "Metadata-Version: 2.1\\nName: canary-lib\\nVersion: 1.0.0\\n",
    INFO + "WHEEL": "Wheel-Version: 1.0\\nGenerator: canary\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    INFO + "entry_points.txt": "[pytest11]\\ncanary = canary_lib.plugin\\n",
}}


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(directory, config_settings=None):
    record("metadata")
    os.makedirs(os.path.join(directory, INFO), exist_ok=True)
    for name in ("METADATA", "WHEEL", "entry_points.txt"):
        with open(os.path.join(directory, INFO, name), "w") as out:
            out.write(FILES[INFO + name])
    return INFO.rstrip("/")


def build_wheel(directory, config_settings=None, metadata_directory=None):
    record("wheel")
    name = "canary_lib-1.0.0-py3-none-any.whl"
    rows = []
    with zipfile.ZipFile(os.path.join(directory, name), "w") as wheel:
        for path, text in FILES.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{{path}},sha256={{digest}},{{len(data)}}")
        rows.append(INFO + "RECORD,,")
        wheel.writestr(INFO + "RECORD", "\\n".join(rows) + "\\n")
    return name
'''
CANARY_PYPROJECT = """\
[project]
name = "canary-lib"
version = "1.0.0"

[build-system]
requires = []
build-backend = "canary_backend"
backend-path = ["."]
"""
# A hook of the project's own pre-commit configuration that runs code of a dependency.
CANARY_HOOK = """\
      - id: canary
        name: canary
        entry: poetry run python -c "import canary_lib.probe as probe; probe.record('pre-commit')"
        language: system
        pass_filenames: false
        always_run: true
"""


# --- fixtures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    record: Path

    def clear(self) -> None:
        self.record.unlink(missing_ok=True)
        shutil.rmtree(self.record.parent / "seen", ignore_errors=True)

    def entries(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.fixture(scope="session")
def canary(git_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Canary:
    """canary-lib, published on the session's git server, readable with the session's token."""
    root = tmp_path_factory.mktemp("canary")
    record = root / "record.jsonl"
    work = root / "canary-lib"
    work.mkdir()
    (work / "pyproject.toml").write_text(CANARY_PYPROJECT)
    (work / "canary_backend.py").write_text(CANARY_BACKEND.format(marker=CANARY_MARKER))
    (work / "canary_lib").mkdir()
    (work / "canary_lib" / "probe.py").write_text(CANARY_PROBE.format(record=str(record), host=git_server.host))
    (work / "canary_lib" / "plugin.py").write_text(CANARY_PLUGIN)
    env = tool_env(root / "home")
    run(["git", "init", "-q", "-b", "main"], work, env)
    run(["git", "add", "-A"], work, env)
    run(["git", "commit", "-q", "-m", "canary"], work, env)
    run(["git", "tag", "v1.0.0"], work, env)
    git_server.publish(work, "canary-lib")
    return Canary(record)


@pytest.fixture(scope="session")
def index_downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Poetry's cache after installing the same project without private dependencies: each job
    starts from a copy, as a CI run starts from the cache its restore-keys bring back."""
    root = tmp_path_factory.mktemp("index-downloads")
    project = render(
        "cookiecutter", root / "out", {"private_dependencies": "", "package_index_url": package_index_url()}
    ).path
    env = tool_env(root / "home")
    run(["poetry", "lock", "--no-interaction"], project, env)
    run(["poetry", "sync", "--no-interaction"], project, env)
    return root / "home" / ".cache" / "pypoetry"


# --- the simulated CI run ---------------------------------------------------------------


def write_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


# pyproject.toml -> the poetry.lock a developer made for it: the same project locks the same way
# in every mode, and locking takes seconds.
LOCKS: dict[str, str] = {}


def lock_as_a_developer(project: Path, server: GitServer, root: Path) -> None:
    """poetry.lock as the developer commits it: locked in their own clone, with their own access
    (which may reach more than CI's credential); CI's checkout gets only the lock."""
    pyproject = (project / "pyproject.toml").read_text()
    if pyproject in LOCKS:
        (project / "poetry.lock").write_text(LOCKS[pyproject])
        return
    clone = root / "developer-clone"
    shutil.copytree(project, clone)
    credential = {**credential_helper_env(server), "PRIVATE_GIT_TOKEN": server.other_token}
    env = tool_env(root / "developer-home", **server.env(), **credential)
    env["POETRY_SYSTEM_GIT_CLIENT"] = "true"
    run(["poetry", "lock", "--no-interaction"], clone, env)
    shutil.copy(clone / "poetry.lock", project / "poetry.lock")
    LOCKS[pyproject] = (clone / "poetry.lock").read_text()
    shutil.rmtree(clone)


def namespace_for(ssh: SshGitServer, root: Path) -> list[str]:
    """ssh_through_mount_namespace, which needs root and unshare: a skip here without them, a
    failure where CI demands every tool."""
    root_or_sudo = os.geteuid() == 0 or subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    if not (root_or_sudo and shutil.which("unshare") and shutil.which("setpriv")):
        message = "the SSH tests need root or sudo, unshare and setpriv for a private mount namespace"
        if os.environ.get("TEMPLATE_TESTS_REQUIRE_ALL"):
            pytest.fail(message)
        pytest.skip(message)
    return ssh_through_mount_namespace(ssh, root)


@dataclass
class CiRun:
    """One run of ci.yml: its jobs in order, each on a fresh runner, sharing the cache service."""

    project: Path  # the checkout every runner starts from
    root: Path  # everything the run wrote: runners, the cache service, the poetry call log
    server: GitServer
    mode: str
    secrets: dict[str, str]
    variables: dict[str, str]
    cache: CacheService
    minted_token: str
    dependencies: str
    ssh: SshGitServer | None = None
    poetry_cache: Path | None = None
    github: dict[str, Any] | None = None
    jobs: dict[str, JobRun] = field(default_factory=dict)

    @property
    def workflow(self) -> Path:
        return self.project / ".github" / "workflows" / "ci.yml"

    @property
    def poetry_calls(self) -> Path:
        return self.root / "poetry-calls.txt"

    def poetry_commands(self) -> list[str]:
        return self.poetry_calls.read_text().splitlines() if self.poetry_calls.exists() else []

    def job_ids(self) -> list[str]:
        return list(yaml.safe_load(self.workflow.read_text())["jobs"])

    def runner(self, job: str) -> Runner:
        root = self.root / f"runner-{len(self.jobs) + 1}-{job}"
        tools = root / "bin"
        tools.mkdir(parents=True)
        # Records each poetry command, then runs the pinned poetry: proves what ran, and where not.
        real_poetry = shutil.which("poetry", path=tool_env(root)["PATH"])
        assert real_poetry, "poetry is not on PATH"
        write_script(tools / "poetry", f'printf "%s\\n" "$*" >> "{self.poetry_calls}"\nexec "{real_poetry}" "$@"\n')
        runner = Runner.fresh(root, self.project, {}, workspace=self.root / "workspace")
        runner.env = tool_env(runner.home, **self.server.env(), TMPDIR=runner.env["TMPDIR"])
        runner.env["PATH"] = f"{tools}{os.pathsep}{runner.env['PATH']}"
        if self.poetry_cache is not None and job != CREDENTIAL_JOB:
            shutil.copytree(self.poetry_cache, runner.home / ".cache" / "pypoetry")
        return runner

    def mint_app_token(self, given: dict[str, str]) -> dict[str, str]:
        # What actions/create-github-app-token is asked for; GitHub would answer with a token.
        assert given["client-id"] == APP_CLIENT_ID and given["private-key"] == self.secrets["APP_PRIVATE_KEY"]
        assert given["owner"] == self.server.org and given["permission-contents"] == "read"
        assert given["github-api-url"] == f"https://{self.server.host}/api/v3"
        repositories = {entry.split("@")[0] for entry in self.dependencies.split(", ")}
        assert set(given["repositories"].split(",")) == repositories
        return {"token": self.minted_token}

    def start(self, job: str, skip: set[str] | None = None) -> JobRun:
        """The job on a fresh runner, its `needs` from the jobs run before it; not run yet."""
        runner = self.runner(job)
        python = os.path.realpath(sys.executable)
        context = Context(
            workspace=runner.workspace,
            runner_temp=runner.temp,
            base_env=runner.env,
            secrets=self.secrets,
            vars=self.variables,
            uses={
                "actions/checkout": None,  # the runner's workspace is the checkout
                "actions/setup-python": lambda given: {"python-path": python, "python-version": "3.11"},
                "actions/cache/restore": self.cache.restore(runner),
                "actions/cache/save": self.cache.save(runner),
                "actions/create-github-app-token": self.mint_app_token,
            },
            skip=skip or set(),
            matrix={"python-version": "3.11"},
            needs={name: run.needs_entry() for name, run in self.jobs.items()},
            wrap=namespace_for(self.ssh, self.root) if self.ssh else [],
        )
        if self.github is not None:
            context.github = self.github
        # Poetry is already on PATH: its own install and link are a runner's business.
        job_run = JobRun(self.workflow, job, runner, context, action_skip={"Install Poetry", "Put Poetry on PATH"})
        self.jobs[job] = job_run
        return job_run

    def run(self, *jobs: str) -> CiRun:
        """Each job in turn (default: the credential job, lint and test), stopping at a failure."""
        for job in jobs or [job for job in (CREDENTIAL_JOB, "lint", "test") if job in self.job_ids()]:
            skip = {"Lint", "Check formatting", "Type check"} if job == "lint" else set()  # pre-commit runs them
            job_run = self.start(job, skip)
            try:
                job_run.execute()
            except WorkflowError as problem:
                raise AssertionError(f"{problem}\n{self.log()}") from None
            if job_run.failed:
                break
        return self

    def job(self, name: str) -> JobRun:
        return self.jobs[name]

    @property
    def failed(self) -> bool:
        return any(job.failed for job in self.jobs.values())

    def result(self, step: str) -> StepResult:
        found = [job.result(step) for job in self.jobs.values() if any(r.name == step for r in job.results())]
        assert len(found) == 1, f"{step} ran in {len(found)} jobs:\n{self.log()}"
        return found[0]

    def log(self) -> str:
        return "\n".join(f"# job {name}\n{job.log()}" for name, job in self.jobs.items())


def start_ci(
    tmp_path: Path,
    server: GitServer,
    mode: str,
    *,
    secret: str,
    minted_token: str = "",
    dependencies: str = DEPENDENCIES,
    ssh: SshGitServer | None = None,
    poetry_cache: Path | None = None,
    variables: dict[str, str] | None = None,
    answers: dict[str, Any] | None = None,
    lock: bool = True,
    cache: CacheService | None = None,
) -> CiRun:
    project = render(
        "cookiecutter",
        tmp_path / "checkout",
        {
            "project_name": "Auth Check",
            "github_host": server.host,
            "github_org": server.org,
            "private_dependencies": dependencies,
            "git_auth": mode,
            "package_index_url": package_index_url(),
            **(answers or {}),
        },
    ).path
    if lock:
        lock_as_a_developer(project, server, tmp_path)
    config = project / ".pre-commit-config.yaml"
    config.write_text(config.read_text() + CANARY_HOOK)
    env = tool_env(tmp_path / "git-home")
    run(["git", "init", "-q", "-b", "main"], project, env)
    run(["git", "add", "-A"], project, env)
    run(["git", "commit", "-q", "-m", "checkout"], project, env)
    secrets, default_variables = repository_settings(mode, secret, ssh)
    return CiRun(
        project=project,
        root=tmp_path,
        server=server,
        mode=mode,
        secrets=secrets,
        variables={**default_variables, **(variables or {})},
        cache=cache or CacheService(tmp_path / "cache-service"),
        minted_token=minted_token,
        dependencies=dependencies,
        ssh=ssh,
        poetry_cache=poetry_cache,
    )


def start_mode_ci(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    server: GitServer,
    mode: str,
    credential: str | None = None,
    **options: Any,
) -> CiRun:
    """A run whose repository holds `credential` (default: one the server accepts) as this mode expects it.

    App mode stores the App's key; the minting step then hands out `credential` as the token.
    """
    request.getfixturevalue("canary")
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    if credential is None:
        credential = ssh.private_key if ssh else server.token
    secret = APP_PRIVATE_KEY if mode == "github-app" else credential
    return start_ci(tmp_path, server, mode, ssh=ssh, secret=secret, minted_token=credential, **options)


def agents() -> set[int]:
    """SSH agents left behind in this test process's session: the credential step starts its agent
    there, as its child; one that outlived the step is an orphan (another test's running step may
    have a live one)."""
    found = set()
    for pid in ssh_agents(os.getsid(0)):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1] == "1":
                found.add(pid)
        except OSError:
            continue
    return found


def failed_step(ci: CiRun) -> StepResult:
    failures = [result for job in ci.jobs.values() for result in job.results() if result.outcome == "failure"]
    assert len(failures) == 1, ci.log()
    return failures[0]


# --- what third-party code could see, and what the caches keep -----------------------------


def credential_variables(env: dict[str, str]) -> list[str]:
    return sorted(
        name
        for name, value in env.items()
        if value
        and (
            name in ("PRIVATE_GIT_TOKEN", "SSH_PRIVATE_KEY", "SSH_AUTH_SOCK", "GH_TOKEN", "GITHUB_TOKEN")
            or re.fullmatch(r"POETRY_HTTP_BASIC_\w+_PASSWORD", name)
            or (name.startswith("GIT_CONFIG_VALUE_") and "helper" in env.get(f"GIT_CONFIG_KEY_{name[17:]}", ""))
        )
    )


def assert_canary_saw_no_credential(canary: Canary, needles: list[bytes], stages: set[str] | None = None) -> None:
    """Each canary ran (build backend; pytest plugin and pre-commit hook when `stages` names them),
    and nothing it could reach held a credential: its environment, git's credential helpers,
    any SSH agent socket, the readable files under HOME and the runner's temporary folder."""
    entries = canary.entries()
    ran = {entry["stage"] for entry in entries}
    assert (stages or {"wheel"}) <= ran, f"canaries that ran: {sorted(ran)}: the record proves nothing"
    for entry in entries:
        where = entry["stage"]
        assert credential_variables(entry["env"]) == [], f"{where}: code saw {credential_variables(entry['env'])}"
        code, answer = entry["credential_fill"]
        assert code != 0 and "password=" not in answer, f"{where}: git credential fill answered: {answer!r}"
        for path, (agent_code, agent_answer) in entry["agents"].items():
            assert agent_code != 0, f"{where}: the SSH agent at {path} gave out a key: {agent_answer!r}"
        record = json.dumps(entry).encode()
        assert not [needle for needle in needles if needle in record], f"{where}: the record holds the credential"
        assert entry["copied"] > 0, f"{where}: no file copied: the search proves nothing"
        hits, _ = find_on_disk(Path(entry["seen"]), needles)
        assert hits == [], f"{where}: readable files hold the credential: {hits}"


def private_history(saved: dict[str, Path]) -> list[str]:
    """git directories, packs or wheels built from a private repository in the saved caches."""
    found = []
    for key, root in saved.items():
        for path in root.rglob("*"):
            name = path.name
            if name in (".git", "packed-refs", ".created_from_git_dependency") or name.endswith((".pack", ".idx")):
                found.append(f"{key}: {path.relative_to(root)}")
    return found


def private_code(saved: dict[str, Path], marker: bytes) -> list[str]:
    """Saved files holding `marker`, plainly or inside a wheel or other zip."""
    found = []
    for key, root in saved.items():
        for path in root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            content = path.read_bytes()
            hit = marker in content
            if not hit and zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    hit = any(marker in archive.read(member) for member in archive.namelist())
            if hit:
                found.append(f"{key}: {path.relative_to(root)}")
    return found


def git_out(repository: Path, *arguments: str) -> str:
    return run(["git", "--git-dir", str(repository), *arguments], repository, tool_env(repository.parent)).stdout


def history_in_sources(entry: Path) -> list[str]:
    """Every repository of a sources cache entry that holds more than its locked commits: a
    commit with a parent it has, or one that is not shallow (cut from its history)."""
    found = []
    repositories = sorted(entry.glob("*/*.git"))
    assert repositories, f"no repository in {entry}"
    for repository in repositories:
        commits = git_out(repository, "rev-list", "--all").split()
        shallow = set((repository / "shallow").read_text().split()) if (repository / "shallow").exists() else set()
        if not commits or set(commits) != shallow:
            found.append(f"{repository.relative_to(entry)}: {len(commits)} commits, {len(shallow)} cut from history")
    return found


def sources_entries(cache: CacheService) -> dict[str, Path]:
    return {key: path for key, path in cache.entries.items() if key.startswith("private-sources-")}


# --- CI installs, in each mode ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_only_the_credential_job_holds_the_credential_and_the_jobs_that_install_never_see_it(
    mode: str,
    git_server: GitServer,
    canary: Canary,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    index_downloads: Path,
) -> None:
    ci = start_mode_ci(request, tmp_path, git_server, mode, poetry_cache=index_downloads)
    secret = ci.ssh.private_key if ci.ssh else git_server.token
    lock_before = (ci.project / "poetry.lock").read_text()
    canary.clear()
    git_server.take_requests()
    before = agents()

    ci.run(CREDENTIAL_JOB)
    assert not ci.failed, ci.log()
    fetch = ci.result(FETCH_STEP)
    fetched = git_server.take_requests()
    assert agents() - before == set(), "the credential step must stop the SSH agent it started"
    assert ci.poetry_commands() == [], "no Poetry in the credential job"
    ci.run("lint", "test")
    assert not ci.failed, ci.log()

    # The credential job checked and fetched every repository of the lock, transitive ones too.
    for name in ("app-lib", "core-lib", "canary-lib"):
        assert re.search(rf"^ok +{name} .*fetched into .*without history", fetch.stdout, re.M), fetch.output
    if mode == "ssh":
        assert fetched == [], "every fetch, app-lib's own dependency included, must go over SSH"
    else:
        served = {r.repository for r in fetched if r.status == 200 and r.method == "POST"}
        assert served == {"acme/app-lib", "acme/core-lib", "acme/canary-lib"}, fetched
        assert not [r for r in fetched if r.status not in (200, 401)], fetched
    # The jobs that install reached no git server: they read the sources the cache handed over.
    assert git_server.take_requests() == []
    assert ci.poetry_commands().count("sync --no-interaction") == 2
    lint = ci.job("lint")
    imported = run(
        [
            str(lint.runner.workspace / ".venv" / "bin" / "python"),
            "-c",
            "import app_lib, canary_lib; print(app_lib.describe())",
        ],
        lint.runner.workspace,
        tool_env(lint.runner.home),
    )
    assert imported.stdout.strip() == "app 1.0.0 on core 1.0.0"
    assert (lint.runner.workspace / "poetry.lock").read_text() == lock_before, "the lock keeps its plain https URLs"

    needles = secret_needles(git_server.token, git_server.other_token) + (ssh_key_needles(secret) if ci.ssh else [])
    assert_canary_saw_no_credential(canary, needles, {"wheel", "pytest", "pre-commit"})

    # The hand-off holds each locked commit and no history; the other caches no private git data.
    [entry] = sources_entries(ci.cache).values()
    assert history_in_sources(entry) == []
    others = {key: path for key, path in ci.cache.entries.items() if key not in sources_entries(ci.cache)}
    assert others and private_history(others) == []
    for job in ci.jobs.values():
        assert not (job.runner.temp / "private-sources").exists() or job.job == CREDENTIAL_JOB
        assert not (job.runner.workspace / ".venv" / "src").exists()

    # No trace of the secret in anything the run wrote: checkouts, .venv, HOMEs with Poetry's
    # cache, the runners' temporary folders and TMPDIRs, the cache service; nor in the logs.
    hits, searched = find_on_disk(tmp_path, needles)
    assert hits == []
    assert searched > 500
    assert not [needle for needle in needles if needle in ci.log().encode()]


def test_fork_safe_caches_keep_no_byte_of_private_code(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest, index_downloads: Path
) -> None:
    ci = start_mode_ci(
        request, tmp_path, git_server, "token", poetry_cache=index_downloads, answers={"fork_safe_caches": True}
    )
    assert CREDENTIAL_JOB not in ci.job_ids(), "fork-safe: each installing job fetches for itself"
    ci.run("lint")
    assert not ci.failed, ci.log()
    saved = ci.cache.entries
    assert [key for key in saved if key.startswith(("venv-", "private-sources-", "git-wheels-"))] == [], (
        "no private code cached"
    )
    assert saved, "the Poetry cache is still saved"
    assert private_code(saved, CANARY_MARKER.encode()) == []
    # The marker is findable where it is: the installed package (the search can fail).
    assert private_code({"venv": ci.job("lint").runner.workspace / ".venv"}, CANARY_MARKER.encode())

    # A fork's pull request: no secrets, and the caches of the default branch; no byte of private code.
    fork = CiRun(**{**ci.__dict__, "secrets": {}, "jobs": {}, "root": tmp_path / "fork"})
    fork.github = {**ci.jobs["lint"].context.github, "event_name": "pull_request", "ref": "refs/pull/7/merge"}
    fork.root.mkdir()
    fork.run("lint")
    failure = failed_step(fork)
    assert failure.name == FETCH_STEP and "the secret POETRY_GIT_TOKEN is not available" in failure.output
    workspace = fork.job("lint").runner
    assert private_code({"fork runner": workspace.root}, CANARY_MARKER.encode()) == []


def test_the_sources_hand_off_holds_no_history_but_the_search_would_find_it(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A clone of a private repository has history; the hand-off does not, and the check can tell."""
    ci = start_mode_ci(request, tmp_path, git_server, "token")
    ci.run(CREDENTIAL_JOB)
    assert not ci.failed, ci.log()
    clone = tmp_path / "full" / "acme" / "core-lib.git"
    run(["git", "clone", "-q", "--bare", "--", str(git_server.root / "acme" / "core-lib.git"), str(clone)], tmp_path)
    assert history_in_sources(tmp_path / "full") != []
    [entry] = sources_entries(ci.cache).values()
    assert history_in_sources(entry) == []


def test_the_default_caches_hold_no_private_history_but_the_search_would_find_it(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A clone left in .venv/src, as Poetry leaves it, is what private_history reports."""
    ci = start_mode_ci(request, tmp_path, git_server, "token")
    ci.run(CREDENTIAL_JOB)
    lint = ci.start("lint")
    lint.action_skip.add("Remove private git sources")
    lint.execute(until="Run the pre-commit hooks")
    assert not ci.failed, ci.log()
    venv = lint.runner.workspace / ".venv"
    assert (venv / "src" / "canary-lib" / ".git").is_dir()
    assert private_history({"venv": venv}), "the search must find a clone's history"
    assert private_history({key: path for key, path in ci.cache.entries.items() if key.startswith("venv-")})


def test_a_credential_in_the_install_step_is_caught_by_the_canary(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Planted: the token handed to the install step as well, as a job that references it would."""
    ci = start_mode_ci(request, tmp_path, git_server, "token")
    action = ci.project / ".github" / "actions" / "setup-project" / "action.yml"
    document = yaml.safe_load(action.read_text())
    [install] = [step for step in document["runs"]["steps"] if step["name"] == INSTALL_STEP]
    install["env"]["PRIVATE_GIT_TOKEN"] = "${{ secrets.POETRY_GIT_TOKEN }}"
    action.write_text(yaml.safe_dump(document, sort_keys=False))
    canary.clear()
    ci.run(CREDENTIAL_JOB, "lint")
    assert not ci.failed, ci.log()
    with pytest.raises(AssertionError, match="code saw"):
        assert_canary_saw_no_credential(canary, secret_needles(git_server.token))


def test_a_warm_run_restores_the_caches_installs_nothing_and_still_checks_access(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest, index_downloads: Path
) -> None:
    cold = start_mode_ci(request, tmp_path / "cold", git_server, "token", poetry_cache=index_downloads)
    cold.run(CREDENTIAL_JOB, "lint")
    assert not cold.failed, cold.log()
    warm = start_mode_ci(request, tmp_path / "warm", git_server, "token", cache=cold.cache)
    git_server.take_requests()
    canary.clear()
    warm.run(CREDENTIAL_JOB, "lint")
    assert not warm.failed, warm.log()
    assert "No dependencies to install or update" in warm.result(INSTALL_STEP).output
    assert canary.entries() == [] or {e["stage"] for e in canary.entries()} == {"pre-commit"}, "nothing was built"
    requests = git_server.take_requests()
    assert any(r.status == 200 for r in requests), "the credential job still asked the server"
    assert "fetched into" not in warm.result(FETCH_STEP).stdout, "the fetched sources came from the cache"
    assert warm.result("Restore the private sources").outcome == "skipped", "a restored virtualenv needs none"


# The setup action's cache of wheels built from locked commits (scripts/private_wheels.py).
WHEEL_STORE = "git-wheels-"
WHEELS_RESTORE_STEP = "Hand the restored wheels to Poetry"


def store_entries(ci_cache: dict[str, Path]) -> dict[str, Path]:
    return {key: path for key, path in ci_cache.items() if key.startswith(WHEEL_STORE)}


def installed(project: Path, module: str) -> str:
    [init] = (project / ".venv").glob(f"lib/python*/site-packages/{module}/__init__.py")
    return init.read_text()


def test_a_lock_change_that_moves_one_dependency_rebuilds_only_that_one(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest, index_downloads: Path
) -> None:
    # A push to the default branch builds both and saves their wheels, as it saves the virtualenv.
    cold = start_mode_ci(
        request,
        tmp_path / "cold",
        git_server,
        "token",
        poetry_cache=index_downloads,
        dependencies="core-lib@v1.0.0, canary-lib@v1.0.0",
    )
    canary.clear()
    cold.run(CREDENTIAL_JOB)
    cold.start("lint").execute(until="Lint")
    assert not cold.failed, cold.log()
    assert "wheel" in {entry["stage"] for entry in canary.entries()}, "built on the cold run: the record can tell"
    [(key, store)] = store_entries(cold.cache.entries).items()
    # Only wheels, each in a folder named by its commit's hash: private code, never history.
    names = sorted(path.relative_to(store).as_posix() for path in store.rglob("*") if path.is_file())
    assert sorted(re.sub(r"^[0-9a-f]{64}/", "HASH/", name) for name in names) == [
        "HASH/canary_lib-1.0.0-py3-none-any.whl",
        "HASH/core_lib-1.0.0-py3-none-any.whl",
    ], names
    assert private_history({key: store}) == []
    assert private_code({key: store}, CANARY_MARKER.encode()), "the store holds the built wheel"

    # A pull request that moves core-lib: canary-lib's wheel comes from the store, core-lib is built.
    moved = start_mode_ci(
        request,
        tmp_path / "moved",
        git_server,
        "token",
        poetry_cache=index_downloads,
        dependencies="core-lib@v1.1.0, canary-lib@v1.0.0",
        cache=cold.cache,
    )
    moved.github = {**cold.jobs["lint"].context.github, "event_name": "pull_request", "ref": "refs/pull/7/merge"}
    canary.clear()
    moved.run(CREDENTIAL_JOB)
    lint = moved.start("lint")
    lint.execute(until="Lint")
    assert not moved.failed, moved.log()
    restored = moved.result(WHEELS_RESTORE_STEP).output
    assert "1 of 2 wheels restored" in restored and "to build: core-lib" in restored, restored
    assert "wheel" not in {entry["stage"] for entry in canary.entries()}, "canary-lib was rebuilt"
    assert "Installing canary-lib" in moved.result(INSTALL_STEP).output
    assert 'VALUE = "core 1.1.0"' in installed(lint.runner.workspace, "core_lib")
    assert list(store_entries(moved.cache.entries)) == [key], "a pull request saves no cache"


# --- and says exactly what is wrong when it cannot ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_missing_secret_names_it_and_explains_forks_and_dependabot(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("canary")
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    ci = start_ci(tmp_path, git_server, mode, ssh=ssh, secret="", minted_token="")
    git_server.take_requests()
    ci.run()
    failure = failed_step(ci)
    name = MISSING_SECRET[mode]
    assert failure.returncode == 1
    assert f"::error title=Private dependencies::the secret {name} is not available to this run" in failure.stdout
    assert "Pull request from a fork: GitHub passes no secrets to it" in failure.stderr
    assert f"Dependabot run: it sees only Dependabot secrets; create a Dependabot secret named {name}" in failure.stderr
    assert f"create the organization secret {name}" in failure.stderr
    assert list(ci.jobs) == [CREDENTIAL_JOB], "lint and test need the credential job"
    assert ci.poetry_commands() == [], "poetry must not run after a failed check"
    assert git_server.take_requests() == []


@pytest.mark.parametrize("mode", MODES)
def test_wrong_credential_is_reported_as_denied_for_each_dependency(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    wrong = new_token()
    if mode == "ssh":
        key = tmp_path / "keys" / "unknown_key"
        key.parent.mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        wrong = key.read_text()
    ci = start_mode_ci(request, tmp_path, git_server, mode, credential=wrong)
    git_server.take_requests()
    ci.run()
    failure = failed_step(ci)
    assert failure.name == FETCH_STEP
    for name in ("app-lib", "core-lib", "canary-lib"):
        line = re.search(rf"^FAIL +{name} +(.*)$", failure.stdout, re.M)
        assert line, failure.output
        host = git_server.host
        # SSH is named by its host alone: the web port is not where the key was refused.
        expected = f"{host.split(':')[0]} refused the SSH key" if mode == "ssh" else f"{host} refused the credentials"
        assert f"denied: {expected}" in line[1], line[1]
    assert "3 of 3 private dependencies unreachable" in failure.stderr
    assert list(ci.jobs) == [CREDENTIAL_JOB]
    assert ci.poetry_commands() == []
    assert all(r.status == 401 for r in git_server.take_requests())


@pytest.mark.parametrize("mode", MODES)
def test_repository_the_credential_cannot_read_is_named_as_not_found(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ci = start_mode_ci(request, tmp_path, git_server, mode, dependencies=f"{DEPENDENCIES}, secret-lib@v1.0.0")
    # The developer who locked could read secret-lib; CI's credential cannot.
    ci.run()
    failure = failed_step(ci)
    assert failure.name == FETCH_STEP
    assert re.search(r"^ok +app-lib ", failure.stdout, re.M) and re.search(r"^ok +core-lib ", failure.stdout, re.M)
    line = re.search(r"^FAIL +secret-lib +(.*)$", failure.stdout, re.M)
    assert line, failure.output
    expected = f"not found: acme/secret-lib does not exist on {git_server.host}, or these credentials cannot read it"
    assert expected in line[1]
    assert "1 of 4 private dependencies unreachable" in failure.stderr
    assert ci.poetry_commands() == []


def test_a_repository_without_a_lock_is_told_to_commit_one(
    git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ci = start_mode_ci(request, tmp_path, git_server, "token", lock=False)
    ci.run()
    failure = failed_step(ci)
    assert failure.name == FETCH_STEP
    assert "poetry.lock is missing: run poetry lock and commit poetry.lock" in failure.output
    assert ci.poetry_commands() == []


@pytest.mark.parametrize(
    ("secret", "known_hosts", "message"),
    [
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----",
            None,
            "ssh-add cannot load the secret SSH_PRIVATE_KEY: store the whole private key file, without a passphrase",
        ),
        (None, "", "the variable SSH_KNOWN_HOSTS is empty: set it to the known_hosts lines of the git host"),
    ],
    ids=["unusable-key", "no-known-hosts"],
)
def test_ssh_setup_problems_are_explained_and_the_agent_stopped(
    secret: str | None,
    known_hosts: str | None,
    message: str,
    git_server: GitServer,
    ssh_server: SshGitServer,
    canary: Canary,
    tmp_path: Path,
) -> None:
    variables = {} if known_hosts is None else {"SSH_KNOWN_HOSTS": known_hosts}
    ci = start_ci(
        tmp_path, git_server, "ssh", ssh=ssh_server, secret=secret or ssh_server.private_key, variables=variables
    )
    before = agents()
    ci.run()
    failure = failed_step(ci)
    assert failure.name == FETCH_STEP
    assert f"::error title=Private dependencies::{message}" in failure.stdout
    assert list(ci.jobs) == [CREDENTIAL_JOB]
    assert agents() - before == set(), "the credential step must stop the agent it started"


# --- what an earlier step of the credential job could try ------------------------------------


def plant_step(ci: CiRun, job: str, after: str, script: str) -> None:
    """An earlier step, in `job` after the step named `after`, that runs `script`."""
    document = yaml.safe_load(ci.workflow.read_text())
    steps = document["jobs"][job]["steps"]
    index = [step.get("name") for step in steps].index(after)
    steps.insert(index + 1, {"name": "Planted", "run": script})
    ci.workflow.write_text(yaml.safe_dump(document, sort_keys=False))


class Listener:
    """A TCP or Unix socket that records every byte anyone sends it."""

    def __init__(self, path: Path | None = None) -> None:
        family = socket.AF_UNIX if path else socket.AF_INET
        self.server = socket.socket(family, socket.SOCK_STREAM)
        self.server.bind(str(path) if path else ("127.0.0.1", 0))
        self.server.listen()
        self.received = b""
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.getsockname()[1])

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.settimeout(2)
            try:
                while chunk := connection.recv(65536):
                    self.received += chunk
            except OSError:
                pass
            connection.close()

    def close(self) -> None:
        self.server.close()


# What an earlier step appends to GITHUB_ENV or GITHUB_PATH to reach the credential; each
# plant leaves a file named *-ran* or *-saw* where it ran.
PLANTS = {
    "BASH_ENV": r"""
printf '/usr/bin/env > "%s/bash-env-ran-$$"\n' "$RUNNER_TEMP" > "$RUNNER_TEMP/plant.sh"
echo "BASH_ENV=$RUNNER_TEMP/plant.sh" >> "$GITHUB_ENV"
echo "ENV=$RUNNER_TEMP/plant.sh" >> "$GITHUB_ENV"
""",
    "GIT_CONFIG_SYSTEM": r"""
printf '[credential]\n\thelper = "!f() { cat >> %s/helper-saw; }; f"\n' "$RUNNER_TEMP" > "$RUNNER_TEMP/gitconfig"
echo "GIT_CONFIG_SYSTEM=$RUNNER_TEMP/gitconfig" >> "$GITHUB_ENV"
echo "GIT_CONFIG_GLOBAL=$RUNNER_TEMP/gitconfig" >> "$GITHUB_ENV"
""",
    "GIT_TRACE_CURL": r"""
echo "GIT_TRACE_CURL=$RUNNER_TEMP/trace-saw" >> "$GITHUB_ENV"
echo "GIT_TRACE_REDACT=0" >> "$GITHUB_ENV"
echo "GIT_TRACE=$RUNNER_TEMP/trace-saw" >> "$GITHUB_ENV"
echo "GIT_TRACE_PACKET=$RUNNER_TEMP/trace-saw" >> "$GITHUB_ENV"
""",
    "PATH": r"""
mkdir -p "$RUNNER_TEMP/shims"
for tool in git python3 ssh ssh-add ssh-agent mktemp env sleep; do
  printf '#!/bin/sh\n/usr/bin/env > "%s/shim-ran-%s-$$"\nexit 1\n' "$RUNNER_TEMP" "$tool" > "$RUNNER_TEMP/shims/$tool"
  chmod +x "$RUNNER_TEMP/shims/$tool"
done
echo "$RUNNER_TEMP/shims" >> "$GITHUB_PATH"
""",
}


@pytest.mark.parametrize("mode", ["token", "ssh"])
def test_an_earlier_step_cannot_steer_the_credential_step(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every plant at once; each leaves a file named after it where it runs."""
    ci = start_mode_ci(request, tmp_path, git_server, mode)
    plant_step(ci, CREDENTIAL_JOB, "Set up Python", "".join(PLANTS.values()))
    secret = ci.ssh.private_key if ci.ssh else git_server.token
    ci.run(CREDENTIAL_JOB)
    assert not ci.failed, ci.log()
    assert ci.result("Planted").outcome == "success"
    temp = ci.job(CREDENTIAL_JOB).runner.temp
    needles = secret_needles(secret) + (ssh_key_needles(secret) if ci.ssh else [])
    assert find_on_disk(tmp_path, needles)[0] == []
    assert list(temp.glob("*-saw*")) == []
    ran = sorted(path.name.rsplit("-", 1)[0] for path in temp.glob("*-ran*"))
    # BASH_ENV did run, in the step before, which holds nothing: the plants work where they can.
    assert ran == ["bash-env-ran"]


def test_a_proxy_set_by_an_earlier_step_sees_no_request(
    git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    proxy = Listener()
    ci = start_mode_ci(request, tmp_path, git_server, "token")
    variables = "HTTPS_PROXY https_proxy ALL_PROXY all_proxy http_proxy"
    plant = f'for name in {variables}; do echo "$name=http://127.0.0.1:{proxy.port}" >> "$GITHUB_ENV"; done\n'
    plant_step(ci, CREDENTIAL_JOB, "Set up Python", plant + 'echo "GIT_SSL_NO_VERIFY=1" >> "$GITHUB_ENV"\n')
    ci.run(CREDENTIAL_JOB)
    proxy.close()
    assert not ci.failed, ci.log()
    assert (proxy.connections, proxy.received) == (0, b"")


def test_an_ssh_agent_socket_or_ssh_setting_of_an_earlier_step_gets_nothing(
    git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Listeners at the old predictable socket path and at an SSH_AUTH_SOCK an earlier step set;
    an ssh config with a ProxyCommand in HOME; a GIT_SSH_COMMAND of its own."""
    ci = start_mode_ci(request, tmp_path, git_server, "ssh")
    bait = tmp_path / "bait"
    bait.mkdir()
    plant = f"""
echo "SSH_AUTH_SOCK={bait}/agent.sock" >> "$GITHUB_ENV"
echo "GIT_SSH_COMMAND=ssh -o ProxyCommand='env > {bait}/proxy-ran'" >> "$GITHUB_ENV"
mkdir -p ~/.ssh && printf 'Host *\\n  ProxyCommand env > {bait}/config-ran\\n' > ~/.ssh/config
ln -s {bait}/agent.sock "$RUNNER_TEMP/ssh-agent.sock"
"""
    plant_step(ci, CREDENTIAL_JOB, "Set up Python", plant)
    listener = Listener(bait / "agent.sock")
    ci.run(CREDENTIAL_JOB)
    listener.close()
    assert not ci.failed, ci.log()
    assert (listener.connections, listener.received) == (0, b"")
    assert sorted(path.name for path in bait.iterdir()) == ["agent.sock"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_cancelled_ssh_step_leaves_no_agent(
    stop: signal.Signals, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The runner cancels a step by signalling its process group; the agent is in that group."""
    ci = start_mode_ci(request, tmp_path, git_server, "ssh")
    job = ci.start(CREDENTIAL_JOB)
    job.execute(until=FETCH_STEP)
    # The check script stands for a slow fetch: the step is busy when the run is cancelled.
    (job.runner.workspace / "scripts" / "check_private_deps.py").write_text("import time\ntime.sleep(120)\n")
    step = job.run.step(FETCH_STEP)
    script = job.runner.temp / "step.sh"
    script.write_text(job.run.resolve(step["run"]))
    command = [word.replace("{0}", str(script)) for word in step["shell"].split()]
    # No namespace: the agent starts and takes the key before any ssh would run.
    process = subprocess.Popen(command, cwd=job.runner.workspace, env=job.run.env_for(step), start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not ssh_agents(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ssh_agents(process.pid), "the agent did not start"
        time.sleep(0.5)  # the key is in the agent, the check script is running
        os.killpg(process.pid, stop)
        process.wait(timeout=20)
        deadline = time.monotonic() + 10
        while ssh_agents(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ssh_agents(process.pid) == set()
    finally:
        for pid in ssh_agents(process.pid):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


# --- the step runner itself -------------------------------------------------------------------


def test_step_runner_refuses_what_it_does_not_understand(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - name: Uses an unknown context\n      shell: bash\n      env:\n"
        '        VALUE: ${{ job.status }}\n      run: echo "$VALUE"\n'
    )
    context = Context(workspace=tmp_path, runner_temp=tmp_path / "temp", base_env=dict(os.environ))
    with pytest.raises(ExpressionError, match="unknown context 'job'"):
        ActionRun(action, {}, context).run()
    with pytest.raises(WorkflowError, match="no inputs named"):
        ActionRun(action, {"token": "x"}, context)
    with pytest.raises(WorkflowError, match="steps to skip"):
        ActionRun(action, {}, Context(tmp_path, tmp_path / "temp", {}, skip={"Install Poetry"}))
    with pytest.raises(WorkflowError, match="only bash run steps"):
        planted = action.read_text().replace("shell: bash", "shell: sh")
        action.write_text(planted.replace("${{ job.status }}", "x"))
        ActionRun(action, {}, context).run()

"""CI fetches the private dependencies with the org secret and installs them without it, for real.

Each test renders a project whose private dependencies live on the session's HTTPS git server
(tests/support/gitserver.py; SSH mode adds a real sshd), locks it as a developer would, takes the
setup action's inputs from the rendered ci.yml and runs the rendered composite action's own steps
(tests/support/workflow_steps.py): the same environment, the same fetch step holding the
credential, the same `poetry sync` without it. Only what needs GitHub is replaced: setup-python
(this interpreter), Poetry's install (the pinned one is on PATH), the caches (kept in folders, as
actions/cache would keep them) and the GitHub App's token (the server's test token).

One private library, canary-lib, builds with an in-tree build backend that records what any
build code could see during the install: its whole environment, what `git credential fill`
answers for the git host, and whether an SSH agent answers. The record must hold no credential.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import zipfile
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
    ssh_client_for,
    ssh_key_needles,
)
from support.gitserver import GitServer, SshGitServer, new_token
from support.workflow_steps import ActionRun, Context, StepResult, WorkflowError, setup_inputs

pytestmark = pytest.mark.slow

MODES = ("token", "poetry-http-basic", "github-app", "ssh")
FETCH_STEP = "Check access to the private dependencies and fetch them"
INSTALL_STEP = "Install the dependencies"
# app-lib depends on core-lib by a private git reference: the lock lists both, and the credential
# must cover both in every mode; canary-lib records what build code sees.
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0, canary-lib@v1.0.0"
MISSING_SECRET = {
    "token": TOKEN_SECRET,
    "poetry-http-basic": TOKEN_SECRET,
    "github-app": "APP_PRIVATE_KEY",
    "ssh": "SSH_PRIVATE_KEY",
}
# Only canary-lib's source holds it: a cache that holds it holds private code.
CANARY_MARKER = "CANARY-PRIVATE-SOURCE-MARKER"
CANARY_BACKEND = '''\
"""A PEP 517 backend that records what build code can see, then builds a one-module wheel."""
import base64, hashlib, json, os, subprocess, zipfile

RECORD = {record!r}
HOST = {host!r}
NAME, VERSION = "canary_lib", "1.0.0"
FILES = {{
    "canary_lib/__init__.py": "MARKER = {marker!r}\\n",
    "canary_lib-1.0.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: canary-lib\\nVersion: 1.0.0\\n",
    "canary_lib-1.0.0.dist-info/WHEEL":
        "Wheel-Version: 1.0\\nGenerator: canary\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}}


def _record(stage):
    git = subprocess.run(["git", "credential", "fill"], input="protocol=https\\nhost=" + HOST + "\\n\\n",
                         capture_output=True, text=True, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    try:
        agent = subprocess.run(["ssh-add", "-l"], capture_output=True, text=True)
        agent_answer = [agent.returncode, agent.stdout + agent.stderr]
    except OSError as error:
        agent_answer = [-1, str(error)]
    with open(RECORD, "a") as out:
        out.write(json.dumps({{"stage": stage, "env": dict(os.environ), "credential_fill": [git.returncode, git.stdout],
                              "ssh_agent": agent_answer}}) + "\\n")


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(directory, config_settings=None):
    _record("metadata")
    info = os.path.join(directory, "canary_lib-1.0.0.dist-info")
    os.makedirs(info, exist_ok=True)
    for name in ("METADATA", "WHEEL"):
        with open(os.path.join(info, name), "w") as out:
            out.write(FILES["canary_lib-1.0.0.dist-info/" + name])
    return "canary_lib-1.0.0.dist-info"


def build_wheel(directory, config_settings=None, metadata_directory=None):
    _record("wheel")
    name = "canary_lib-1.0.0-py3-none-any.whl"
    rows = []
    with zipfile.ZipFile(os.path.join(directory, name), "w") as wheel:
        for path, text in FILES.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{{path}},sha256={{digest}},{{len(data)}}")
        rows.append("canary_lib-1.0.0.dist-info/RECORD,,")
        wheel.writestr("canary_lib-1.0.0.dist-info/RECORD", "\\n".join(rows) + "\\n")
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


# --- fixtures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    record: Path

    def clear(self) -> None:
        self.record.unlink(missing_ok=True)

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
    source = CANARY_BACKEND.format(record=str(record), host=git_server.host, marker=CANARY_MARKER)
    (work / "canary_backend.py").write_text(source)
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


# --- the simulated runner ---------------------------------------------------------------


@dataclass
class Job:
    project: Path
    root: Path  # everything the run wrote: project, HOME, runner temp, TMPDIR, saved caches
    run: ActionRun
    poetry_calls: Path  # one line per poetry command the steps ran
    saved: dict[str, Path] = field(default_factory=dict)  # cache key -> what actions/cache/save kept

    def poetry_commands(self) -> list[str]:
        return self.poetry_calls.read_text().splitlines() if self.poetry_calls.exists() else []

    def log(self) -> str:
        return "\n".join(f"## {r.name}: {r.outcome} ({r.returncode})\n{r.stdout}{r.stderr}" for r in self.run.results)


def write_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def lock_as_a_developer(project: Path, server: GitServer, root: Path) -> None:
    """poetry.lock as the developer commits it: locked in their own clone, with their own access
    (which may reach more than CI's credential); CI's checkout gets only the lock."""
    clone = root / "developer-clone"
    shutil.copytree(project, clone)
    credential = {**credential_helper_env(server), "PRIVATE_GIT_TOKEN": server.other_token}
    env = tool_env(root / "developer-home", **server.env(), **credential)
    env["POETRY_SYSTEM_GIT_CLIENT"] = "true"
    run(["poetry", "lock", "--no-interaction"], clone, env)
    shutil.copy(clone / "poetry.lock", project / "poetry.lock")
    shutil.rmtree(clone)


def start_job(
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
    restore_from: dict[str, Path] | None = None,
) -> Job:
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
    home, tools = tmp_path / "home", tmp_path / "bin"
    tools.mkdir()
    if poetry_cache is not None:
        shutil.copytree(poetry_cache, home / ".cache" / "pypoetry")
    (tmp_path / "tmp").mkdir()
    env = tool_env(home, **server.env(), TMPDIR=str(tmp_path / "tmp"))
    # Records each poetry command, then runs the pinned poetry: proves what ran, and what did not.
    calls = tmp_path / "poetry-calls.txt"
    real_poetry = shutil.which("poetry", path=env["PATH"])
    assert real_poetry, "poetry is not on PATH"
    write_script(tools / "poetry", f'printf "%s\\n" "$*" >> "{calls}"\nexec "{real_poetry}" "$@"\n')
    if ssh is not None:
        ssh_client_for(ssh, home, tools)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"

    secrets, default_variables = repository_settings(mode, secret, ssh)
    variables = {**default_variables, **(variables or {})}
    saved: dict[str, Path] = {}

    def cache_path(given: dict[str, str]) -> Path:
        path = given["path"]
        return home / path.removeprefix("~/") if path.startswith("~/") else project / path

    def restore(given: dict[str, str]) -> dict[str, str]:
        kept = (restore_from or {}).get(given["key"])
        if kept is None:
            return {"cache-hit": "false"}
        shutil.copytree(kept, cache_path(given), symlinks=True, dirs_exist_ok=True)
        return {"cache-hit": "true"}

    def save(given: dict[str, str]) -> dict[str, str]:
        # What actions/cache/save would upload: the folder as it is at this step.
        kept = tmp_path / "saved-caches" / re.sub(r"[^\w.-]", "_", given["key"])
        if cache_path(given).exists():
            shutil.copytree(cache_path(given), kept, symlinks=True)
            saved[given["key"]] = kept
        return {}

    def mint_app_token(given: dict[str, str]) -> dict[str, str]:
        # What actions/create-github-app-token is asked for; GitHub would answer with a token.
        assert given["client-id"] == APP_CLIENT_ID and given["private-key"] == secret
        assert given["owner"] == server.org and given["permission-contents"] == "read"
        assert given["github-api-url"] == f"https://{server.host}/api/v3"
        repositories = {entry.split("@")[0] for entry in dependencies.split(", ")}
        assert set(given["repositories"].split(",")) == repositories
        return {"token": minted_token}

    context = Context(
        workspace=project,
        runner_temp=tmp_path / "runner-temp",
        base_env=env,
        secrets=secrets,
        vars=variables,
        uses={
            "actions/setup-python": None,
            "actions/cache/restore": restore,
            "actions/cache/save": save,
            "actions/create-github-app-token": mint_app_token,
        },
        # Poetry is already on PATH: its own install and link are a runner's business.
        skip={"Install Poetry", "Put Poetry on PATH"},
    )
    workflow = project / ".github" / "workflows" / "ci.yml"
    action = project / ".github" / "actions" / "setup-project" / "action.yml"
    job = Job(project, tmp_path, ActionRun(action, setup_inputs(workflow, "lint", context), context), calls)
    job.saved = saved
    return job


def start_mode_job(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    server: GitServer,
    mode: str,
    credential: str | None = None,
    **options: Any,
) -> tuple[Job, SshGitServer | None]:
    """A job whose repository holds `credential` (default: one the server accepts) as this mode expects it.

    App mode stores the App's key; the minting step then hands out `credential` as the token.
    """
    request.getfixturevalue("canary")
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    if credential is None:
        credential = ssh.private_key if ssh else server.token
    secret = APP_PRIVATE_KEY if mode == "github-app" else credential
    return start_job(tmp_path, server, mode, ssh=ssh, secret=secret, minted_token=credential, **options), ssh


def agents(job: Job) -> list[int]:
    """The SSH agents listening on this job's runner temp folder (the fetch step starts one)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if command.startswith(b"ssh-agent") and str(job.run.context.runner_temp).encode() in command:
            found.append(int(entry.name))
    return found


def run_job(job: Job) -> None:
    try:
        job.run.run()
    finally:
        for pid in agents(job):
            os.kill(pid, signal.SIGTERM)


def failed_step(job: Job) -> StepResult:
    failures = [result for result in job.run.results if result.outcome == "failure"]
    assert len(failures) == 1, job.log()
    return failures[0]


# --- what build code could see, and what the caches keep --------------------------------------


def assert_canary_saw_no_credential(canary: Canary, needles: list[bytes]) -> None:
    """canary-lib was built during the install, and nothing it could reach held a credential."""
    entries = [entry for entry in canary.entries() if entry["stage"] == "wheel"]
    assert entries, "canary-lib was not built: the record proves nothing"
    for entry in entries:
        env = entry["env"]
        credential_variables = sorted(
            name
            for name, value in env.items()
            if value
            and (
                name in ("PRIVATE_GIT_TOKEN", "SSH_PRIVATE_KEY", "SSH_AUTH_SOCK", "GH_TOKEN", "GITHUB_TOKEN")
                or re.fullmatch(r"POETRY_HTTP_BASIC_\w+_PASSWORD", name)
                or (name.startswith("GIT_CONFIG_VALUE_") and "helper" in env.get(f"GIT_CONFIG_KEY_{name[17:]}", ""))
            )
        )
        assert credential_variables == [], f"build code saw {credential_variables}"
        code, answer = entry["credential_fill"]
        assert code != 0 and "password=" not in answer, f"git credential fill answered build code: {answer!r}"
        agent_code, agent_answer = entry["ssh_agent"]
        assert agent_code not in (0, 1), f"an SSH agent answered build code: {agent_answer!r}"
        record = json.dumps(entry).encode()
        assert not [needle for needle in needles if needle in record], "the record holds the credential"


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


# --- CI installs, in each mode ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ci_fetches_with_the_credential_and_installs_without_it(
    mode: str,
    git_server: GitServer,
    canary: Canary,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    index_downloads: Path,
) -> None:
    job, ssh = start_mode_job(request, tmp_path, git_server, mode, poetry_cache=index_downloads)
    secret = ssh.private_key if ssh else git_server.token
    lock_before = (job.project / "poetry.lock").read_text()
    canary.clear()
    git_server.take_requests()

    job.run.run(until=INSTALL_STEP)
    assert not job.run.failed, job.log()
    fetch = job.run.result(FETCH_STEP)
    fetched = git_server.take_requests()
    run_job(job)
    assert not job.run.failed, job.log()
    assert not agents(job), "the fetch step must stop the SSH agent it started"

    # The fetch step checked and mirrored every repository of the lock, transitive ones too.
    for name in ("app-lib", "core-lib", "canary-lib"):
        assert re.search(rf"^ok +{name} ", fetch.stdout, re.M), fetch.output
    if mode == "ssh":
        assert fetched == [], "every fetch, app-lib's own dependency included, must go over SSH"
    else:
        served = {r.repository for r in fetched if r.status == 200 and r.method == "POST"}
        assert served == {"acme/app-lib", "acme/core-lib", "acme/canary-lib"}, fetched
        assert not [r for r in fetched if r.status not in (200, 401)], fetched
    # The install reached no git server: it read the mirrors.
    assert git_server.take_requests() == []
    assert job.poetry_commands() == ["sync --no-interaction"]
    imported = run(
        [str(job.project / ".venv" / "bin" / "python"), "-c", "import app_lib, canary_lib; print(app_lib.describe())"],
        job.project,
        tool_env(tmp_path / "home"),
    )
    assert imported.stdout.strip() == "app 1.0.0 on core 1.0.0"
    assert (job.project / "poetry.lock").read_text() == lock_before, "the lock must keep its plain https URLs"

    needles = secret_needles(git_server.token, git_server.other_token) + (ssh_key_needles(secret) if ssh else [])
    assert_canary_saw_no_credential(canary, needles)

    # The caches, as the workflow saves them: no private git history; nothing left behind.
    assert set(map(str, job.saved)) and private_history(job.saved) == []
    assert not (job.run.context.runner_temp / "private-git").exists()
    assert not (job.project / ".venv" / "src").exists()

    # No trace of the secret in anything the run wrote: project, .venv, HOME with Poetry's cache
    # and config, the runner's temporary folder and TMPDIR, the saved caches; nor in the logs.
    hits, searched = find_on_disk(tmp_path, needles)
    assert hits == []
    assert searched > 500 and (tmp_path / "home" / ".cache" / "pypoetry").is_dir()
    assert not [needle for needle in needles if needle in job.log().encode()]


def test_fork_safe_caches_keep_no_byte_of_private_code(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest, index_downloads: Path
) -> None:
    job, _ = start_mode_job(
        request, tmp_path, git_server, "token", poetry_cache=index_downloads, answers={"fork_safe_caches": True}
    )
    run_job(job)
    assert not job.run.failed, job.log()
    assert [key for key in job.saved if key.startswith("venv-")] == [], "no virtualenv cache in fork-safe mode"
    assert job.saved, "the Poetry cache is still saved"
    assert private_code(job.saved, CANARY_MARKER.encode()) == []
    # The marker is findable where it is: the installed package (the search can fail).
    assert private_code({"venv": job.project / ".venv"}, CANARY_MARKER.encode())


def test_the_default_caches_hold_no_private_history_but_the_search_would_find_it(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A clone left in .venv/src, as Poetry leaves it, is what private_history reports."""
    job, _ = start_mode_job(request, tmp_path, git_server, "token")
    job.run.run(until="Remove private git sources")
    assert (job.project / ".venv" / "src" / "canary-lib" / ".git").is_dir()
    assert private_history({"venv": job.project / ".venv"}), "the search must find a clone's history"
    run_job(job)
    assert private_history(job.saved) == []


def test_a_credential_in_the_install_step_is_caught_by_the_canary(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Planted: the token handed to the install step as well, as the old single step did."""
    job, _ = start_mode_job(request, tmp_path, git_server, "token")
    install = job.run.step(INSTALL_STEP)
    install["env"]["PRIVATE_GIT_TOKEN"] = "${{ inputs.token }}"
    canary.clear()
    run_job(job)
    assert not job.run.failed, job.log()
    with pytest.raises(AssertionError, match="build code saw"):
        assert_canary_saw_no_credential(canary, secret_needles(git_server.token))


def test_a_warm_run_restores_the_caches_installs_nothing_and_still_checks_access(
    git_server: GitServer, canary: Canary, tmp_path: Path, request: pytest.FixtureRequest, index_downloads: Path
) -> None:
    cold, _ = start_mode_job(request, tmp_path / "cold", git_server, "token", poetry_cache=index_downloads)
    run_job(cold)
    assert not cold.run.failed, cold.log()
    warm, _ = start_mode_job(request, tmp_path / "warm", git_server, "token", restore_from=cold.saved)
    git_server.take_requests()
    canary.clear()
    run_job(warm)
    assert not warm.run.failed, warm.log()
    assert "No dependencies to install or update" in warm.run.result(INSTALL_STEP).output
    assert canary.entries() == [], "nothing was built on a warm run"
    assert any(r.status == 200 for r in git_server.take_requests()), "the fetch step still asked the server"


# --- and says exactly what is wrong when it cannot ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_missing_secret_names_it_and_explains_forks_and_dependabot(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("canary")
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    job = start_job(tmp_path, git_server, mode, ssh=ssh, secret="", minted_token="")
    git_server.take_requests()
    run_job(job)
    failure = failed_step(job)
    name = MISSING_SECRET[mode]
    assert failure.returncode == 1
    assert f"::error title=Private dependencies::the secret {name} is not available to this run" in failure.stdout
    assert "Pull request from a fork: GitHub passes no secrets to it" in failure.stderr
    assert f"Dependabot run: it sees only Dependabot secrets; create a Dependabot secret named {name}" in failure.stderr
    assert f"create the organization secret {name}" in failure.stderr
    assert job.run.result(INSTALL_STEP).outcome == "skipped"
    assert job.poetry_commands() == [], "poetry must not run after a failed check"
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
    job, _ = start_mode_job(request, tmp_path, git_server, mode, credential=wrong)
    git_server.take_requests()
    run_job(job)
    failure = failed_step(job)
    assert failure.name == FETCH_STEP
    for name in ("app-lib", "core-lib", "canary-lib"):
        line = re.search(rf"^FAIL +{name} +(.*)$", failure.stdout, re.M)
        assert line, failure.output
        host = git_server.host
        # SSH is named by its host alone: the web port is not where the key was refused.
        expected = f"{host.split(':')[0]} refused the SSH key" if mode == "ssh" else f"{host} refused the credentials"
        assert f"denied: {expected}" in line[1], line[1]
    assert "3 of 3 private dependencies unreachable" in failure.stderr
    assert job.run.result(INSTALL_STEP).outcome == "skipped"
    assert job.poetry_commands() == []
    assert all(r.status == 401 for r in git_server.take_requests())


@pytest.mark.parametrize("mode", MODES)
def test_repository_the_credential_cannot_read_is_named_as_not_found(
    mode: str, git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    job, _ = start_mode_job(request, tmp_path, git_server, mode, dependencies=f"{DEPENDENCIES}, secret-lib@v1.0.0")
    # The developer who locked could read secret-lib; CI's credential cannot.
    run_job(job)
    failure = failed_step(job)
    assert failure.name == FETCH_STEP
    assert re.search(r"^ok +app-lib ", failure.stdout, re.M) and re.search(r"^ok +core-lib ", failure.stdout, re.M)
    line = re.search(r"^FAIL +secret-lib +(.*)$", failure.stdout, re.M)
    assert line, failure.output
    expected = f"not found: acme/secret-lib does not exist on {git_server.host}, or these credentials cannot read it"
    assert expected in line[1]
    assert "1 of 4 private dependencies unreachable" in failure.stderr
    assert job.poetry_commands() == []


def test_a_repository_without_a_lock_is_told_to_commit_one(
    git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    job, _ = start_mode_job(request, tmp_path, git_server, "token", lock=False)
    run_job(job)
    failure = failed_step(job)
    assert failure.name == FETCH_STEP
    assert "poetry.lock is missing: run poetry lock and commit poetry.lock" in failure.output
    assert job.poetry_commands() == []


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
    job = start_job(
        tmp_path, git_server, "ssh", ssh=ssh_server, secret=secret or ssh_server.private_key, variables=variables
    )
    job.run.run()
    stopped = not agents(job)
    run_job(job)
    failure = failed_step(job)
    assert failure.name == FETCH_STEP
    assert f"::error title=Private dependencies::{message}" in failure.stdout
    assert job.run.result(INSTALL_STEP).outcome == "skipped"
    assert stopped, "the fetch step must stop the agent it started"
    assert not (job.run.context.runner_temp / "known_hosts").exists()


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


def test_the_rendered_action_gives_no_later_step_the_credential(
    git_server: GitServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Read as data: only the fetch step's env names a credential input or the App's token."""
    for mode in MODES:
        project = render(
            "cookiecutter", tmp_path / mode, {"git_auth": mode, "private_dependencies": "core-lib@v1.0.0"}
        ).path
        action = yaml.safe_load((project / ".github" / "actions" / "setup-project" / "action.yml").read_text())
        holders = [
            step["name"]
            for step in action["runs"]["steps"]
            if re.search(
                r"inputs\.(token|ssh-private-key|app-private-key)|steps\.app-token", json.dumps(step.get("env", {}))
            )
        ]
        assert holders == [FETCH_STEP], (mode, holders)
        fetch = next(step for step in action["runs"]["steps"] if step["name"] == FETCH_STEP)
        assert not re.search(r"\b(poetry|pip|pipx)\b", fetch["run"]), (mode, fetch["run"])
        scripts = re.findall(r"^\s*(python3.*)$", fetch["run"], re.M)
        assert scripts and all(line.startswith("python3 -I -S scripts/check_private_deps.py ") for line in scripts)

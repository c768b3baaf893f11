"""CI installs the private dependencies with the org secret, in every auth mode, for real.

Each test renders a project whose private dependencies live on the session's HTTPS git server
(tests/support/gitserver.py; SSH mode adds a real sshd), takes the setup action's inputs from the rendered
ci.yml and runs the rendered composite action's own steps (tests/support/workflow_steps.py): the same
environment, the same preflight, the same `poetry sync`. Only the steps that need GitHub are
replaced: setup-python and the caches are skipped (this interpreter and no cache), Poetry is
already on PATH, and the GitHub App token is the server's test token.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import package_index_url, render, require_tool, run, tool_env
from support.gitserver import GitServer, SshGitServer, new_token
from support.workflow_steps import ActionRun, Context, StepResult, WorkflowError, evaluate_condition, setup_inputs

pytestmark = pytest.mark.slow

MODES = ("token", "poetry-http-basic", "github-app", "ssh")
SETUP_STEP = "Check access to the private dependencies and install"
# app-lib depends on core-lib by a private git reference; Poetry's per-repository credentials
# need an entry for each repository, so both are listed (the git-level modes would not need it).
DEPENDENCIES = "app-lib@v1.0.0, core-lib@v1.0.0"
TOKEN_SECRET = "POETRY_GIT_TOKEN"  # the template's default secret name
APP_CLIENT_ID = "Iv23liAcmeTestApp"
APP_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nnot used: the token step is replaced\n-----END RSA PRIVATE KEY-----"
MISSING_SECRET = {
    "token": TOKEN_SECRET,
    "poetry-http-basic": TOKEN_SECRET,
    "github-app": "APP_PRIVATE_KEY",
    "ssh": "SSH_PRIVATE_KEY",
}


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ssh_server(git_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshGitServer]:
    sshd = require_tool("sshd")
    require_tool("ssh-agent")
    with SshGitServer(git_server, tmp_path_factory.mktemp("sshd"), sshd=sshd) as server:
        yield server


@pytest.fixture(scope="session")
def index_downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Poetry's cache after installing the same project without private dependencies.

    Each mode starts from a copy, as a CI run starts from the cache the action's restore-keys
    bring back: the package-index downloads are shared, while every git clone and build of the
    private libraries happens in the mode's own cache, which the search for the token covers.
    """
    root = tmp_path_factory.mktemp("index-downloads")
    project = render(
        "cookiecutter", root / "out", {"private_dependencies": "", "package_index_url": package_index_url()}
    ).path
    env = tool_env(root / "home")
    run(["poetry", "lock", "--no-interaction"], project, env)
    run(["poetry", "sync", "--no-interaction"], project, env)
    return root / "home" / ".cache" / "pypoetry"


@pytest.fixture(scope="session")
def timings(request: pytest.FixtureRequest) -> Iterator[dict[str, tuple[float, float]]]:
    """Each mode's lock and install seconds, printed at the end of the session."""
    measured: dict[str, tuple[float, float]] = {}
    yield measured
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if not measured or reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # shown on success too, not only with a failure
        reporter.write_line("")
        reporter.write_sep("-", "private dependencies: seconds per mode")
        reporter.write_line(f"{'mode':<20}{'poetry lock':>12}{'install step':>14}")
        for mode, (lock, install) in measured.items():
            reporter.write_line(f"{mode:<20}{lock:>12.1f}{install:>14.1f}")
        reporter.write_line("install step: the rendered step, preflight check + poetry sync; git clones and")
        reporter.write_line("builds cold, package-index downloads from the cache (as CI's restore-keys give)")


# --- the simulated runner ---------------------------------------------------------------


@dataclass
class Job:
    project: Path
    root: Path  # everything the run wrote: project, HOME, runner temp, TMPDIR
    run: ActionRun
    poetry_calls: Path  # one line per poetry command the steps ran

    def poetry_commands(self) -> list[str]:
        return self.poetry_calls.read_text().splitlines() if self.poetry_calls.exists() else []

    def log(self) -> str:
        return "\n".join(f"## {r.name}: {r.outcome} ({r.returncode})\n{r.stdout}{r.stderr}" for r in self.run.results)


def credentials(
    mode: str,
    server: GitServer,
    ssh: SshGitServer | None,
    secret: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """(secrets, vars) of a repository set up as the README says, for this mode."""
    if mode in ("token", "poetry-http-basic"):
        return {TOKEN_SECRET: secret}, {}
    if mode == "github-app":
        return {"APP_PRIVATE_KEY": secret}, {"APP_CLIENT_ID": APP_CLIENT_ID}
    assert ssh is not None
    return {"SSH_PRIVATE_KEY": secret}, {"SSH_KNOWN_HOSTS": ssh.known_hosts_line}


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
        },
    ).path
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
        # OpenSSH reads ~/.ssh/config from the passwd entry, not $HOME, and a user named in the
        # destination (git@) beats the config's User. This test's sshd runs as the current user on a
        # free port; on a runner, git@HOST:22 needs neither the config nor this shim.
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        (home / ".ssh" / "config").write_text(ssh.ssh_config())
        (home / ".ssh" / "config").chmod(0o600)
        real_ssh = shutil.which("ssh")
        write_script(tools / "ssh", f'exec "{real_ssh}" -F "$HOME/.ssh/config" -l "{ssh.user}" "$@"\n')
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"

    secrets, default_variables = credentials(mode, server, ssh, secret)
    variables = {**default_variables, **(variables or {})}

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
        uses={"actions/setup-python": None, "actions/cache": None, "actions/create-github-app-token": mint_app_token},
        skip={"Install Poetry"},  # pipx is not here; the pinned poetry is already on PATH
    )
    workflow = project / ".github" / "workflows" / "ci.yml"
    action = project / ".github" / "actions" / "setup-project" / "action.yml"
    return Job(project, tmp_path, ActionRun(action, setup_inputs(workflow, "lint", context), context), calls)


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
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    if credential is None:
        credential = ssh.private_key if ssh else server.token
    secret = APP_PRIVATE_KEY if mode == "github-app" else credential
    return start_job(tmp_path, server, mode, ssh=ssh, secret=secret, minted_token=credential, **options), ssh


def write_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def agent_running(job: Job) -> bool:
    """Whether the SSH agent this job's steps started (on its own socket) is still running."""
    pid = job.run.github_env.get("SSH_AGENT_PID", "")
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if pid.isdigit() else b""
    except OSError:
        return False
    return b"ssh-agent" in command and str(job.run.context.runner_temp).encode() in command


def stop_agent(job: Job) -> None:
    """The SSH agent the rendered step started, if the run did not stop it itself."""
    if agent_running(job):
        os.kill(int(job.run.github_env["SSH_AGENT_PID"]), signal.SIGTERM)


# --- the search for the secret ------------------------------------------------------------


def base64_forms(value: bytes) -> list[bytes]:
    """What base64 text must contain wherever `value` sits inside an encoded blob (3 alignments)."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value)
        stable = encoded[4 if offset else 0 : 4 * ((offset + len(value)) // 3)]
        forms.append(stable)
    return forms


def secret_needles(secret: str) -> list[bytes]:
    needles = []
    for value in (secret.encode(), f"x-access-token:{secret}".encode()):
        needles += [value, *base64_forms(value)]
    return needles


def ssh_key_needles(private_key: str) -> list[bytes]:
    body = [line for line in private_key.splitlines() if line and not line.startswith("-----")]
    return [line.encode() for line in body if len(line) >= 20]


def find_on_disk(root: Path, needles: list[bytes]) -> tuple[list[str], int]:
    """(files holding any needle, number of files read) under root."""
    hits, files = [], 0
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        files += 1
        content = path.read_bytes()
        if any(needle in content for needle in needles):
            hits.append(str(path.relative_to(root)))
    return hits, files


# --- CI installs, in each mode ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ci_steps_lock_and_install_the_private_dependencies(
    mode: str,
    git_server: GitServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    timings: dict[str, tuple[float, float]],
    index_downloads: Path,
) -> None:
    job, ssh = start_mode_job(request, tmp_path, git_server, mode, poetry_cache=index_downloads)
    secret = ssh.private_key if ssh else git_server.token
    git_server.take_requests()
    try:
        job.run.run(until=SETUP_STEP)
        assert not job.run.failed, job.log()
        # The project is new, so there is no lock yet: lock with the install step's own environment,
        # as the developer who adds a private dependency does before committing the lock.
        step_env = job.run.env_for(job.run.step(SETUP_STEP))
        started = time.monotonic()
        locked = run(["poetry", "lock", "--no-interaction"], job.project, step_env)
        lock_seconds = time.monotonic() - started
        job.run.run()
        assert not agent_running(job), "the action's last step must stop the SSH agent"
    finally:
        stop_agent(job)
    install = job.run.result(SETUP_STEP)
    assert install.outcome == "success", job.log()
    timings[mode] = (lock_seconds, install.seconds)

    # The preflight saw both repositories, then the step's own poetry command installed them.
    assert re.search(r"^ok +app-lib +reachable", install.stdout, re.M), install.output
    assert re.search(r"^ok +core-lib +reachable", install.stdout, re.M), install.output
    assert job.poetry_commands() == ["lock --no-interaction", "sync --no-interaction"]
    python = job.project / ".venv" / "bin" / "python"
    imported = run(
        [str(python), "-c", "import app_lib, core_lib; print(app_lib.describe())"],
        job.project,
        tool_env(tmp_path / "home"),
    )
    assert imported.stdout.strip() == "app 1.0.0 on core 1.0.0"

    requests = git_server.take_requests()
    if mode == "ssh":
        assert requests == [], "every git request, app-lib's own dependency included, must go over SSH"
    else:
        fetched = {r.repository for r in requests if r.status == 200 and r.method == "POST"}
        assert fetched == {"acme/app-lib", "acme/core-lib"}, requests
        assert not [r for r in requests if r.status not in (200, 401)], requests

    # The lock records the plain https URL, the tag and the commit: nothing that authenticates.
    lock_text = (job.project / "poetry.lock").read_text()
    packages = {package["name"]: package for package in tomllib.loads(lock_text)["package"]}
    for name in ("app-lib", "core-lib"):
        source = packages[name]["source"]
        assert source["type"] == "git" and source["url"] == git_server.url(name), source
        assert source["reference"] == "v1.0.0" and re.fullmatch(r"[0-9a-f]{40}", source["resolved_reference"])
    for url in re.findall(r"[a-z+]+://[^\"'\s]*" + re.escape(git_server.host) + r"[^\"'\s]*", lock_text):
        assert url.startswith(f"https://{git_server.host}/"), url

    # No trace of the secret in anything the run wrote: project, .venv, HOME with Poetry's cache
    # and config, the runner's temp directory and TMPDIR; nor in the logs.
    needles = secret_needles(git_server.token) + (ssh_key_needles(secret) if ssh else [])
    hits, searched = find_on_disk(tmp_path, needles)
    assert hits == []
    assert searched > 500 and (tmp_path / "home" / ".cache" / "pypoetry").is_dir()
    logs = (job.log() + locked.stdout + locked.stderr).encode()
    assert not [needle for needle in needles if needle in logs]


# --- and says exactly what is wrong when it cannot ------------------------------------------


def run_to_failure(job: Job) -> StepResult:
    """Run the job, which must fail in the install step; the agent is stopped either way."""
    try:
        job.run.run()
    finally:
        stop_agent(job)
    failure = failed_step(job)
    assert failure.name == SETUP_STEP
    return failure


def failed_step(job: Job) -> StepResult:
    failures = [result for result in job.run.results if result.outcome == "failure"]
    assert len(failures) == 1, job.log()
    return failures[0]


@pytest.mark.parametrize("mode", MODES)
def test_missing_secret_names_it_and_explains_forks_and_dependabot(
    mode: str,
    git_server: GitServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    ssh = request.getfixturevalue("ssh_server") if mode == "ssh" else None
    job = start_job(tmp_path, git_server, mode, ssh=ssh, secret="", minted_token="")
    git_server.take_requests()
    job.run.run()
    failure = failed_step(job)
    name = MISSING_SECRET[mode]
    assert failure.returncode == 1
    assert f"::error title=Private dependencies::the secret {name} is not available to this run" in failure.stdout
    assert "Pull request from a fork: GitHub passes no secrets to it" in failure.stderr
    assert f"Dependabot run: it sees only Dependabot secrets; create a Dependabot secret named {name}" in failure.stderr
    assert f"create the organization secret {name}" in failure.stderr
    if mode in ("github-app", "ssh"):
        assert job.run.result(SETUP_STEP).outcome == "skipped", "no install after the key check failed"
    assert job.poetry_commands() == [], "poetry must not run after a failed preflight"
    assert git_server.take_requests() == []


@pytest.mark.parametrize("mode", MODES)
def test_wrong_credential_is_reported_as_denied_for_each_dependency(
    mode: str,
    git_server: GitServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    wrong = new_token()
    if mode == "ssh":
        key = tmp_path / "keys" / "unknown_key"
        key.parent.mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        wrong = key.read_text()
    job, _ = start_mode_job(request, tmp_path, git_server, mode, credential=wrong)
    git_server.take_requests()
    failure = run_to_failure(job)
    for name in ("app-lib", "core-lib"):
        line = re.search(rf"^FAIL +{name} +(.*)$", failure.stdout, re.M)
        assert line, failure.output
        host = git_server.host
        # SSH is named by its host alone: the web port is not where the key was refused.
        expected = f"{host.split(':')[0]} refused the SSH key" if mode == "ssh" else f"{host} refused the credentials"
        assert line[1].split(": ", 1)[1].startswith(f"denied: {expected}"), line[1]
    assert "2 of 2 private dependencies unreachable" in failure.stderr
    assert job.poetry_commands() == [], "poetry must not run after a failed preflight"
    assert all(r.status == 401 for r in git_server.take_requests())


@pytest.mark.parametrize("mode", MODES)
def test_repository_the_credential_cannot_read_is_named_as_not_found(
    mode: str,
    git_server: GitServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    job, _ = start_mode_job(request, tmp_path, git_server, mode, dependencies=f"{DEPENDENCIES}, secret-lib@v1.0.0")
    failure = run_to_failure(job)
    assert re.search(r"^ok +app-lib ", failure.stdout, re.M) and re.search(r"^ok +core-lib ", failure.stdout, re.M)
    line = re.search(r"^FAIL +secret-lib +(.*)$", failure.stdout, re.M)
    assert line, failure.output
    expected = f"not found: acme/secret-lib does not exist on {git_server.host}, or these credentials cannot read it"
    assert expected in line[1]
    assert "1 of 3 private dependencies unreachable" in failure.stderr
    assert job.poetry_commands() == [], "poetry must not run after a failed preflight"


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
    tmp_path: Path,
) -> None:
    variables = {} if known_hosts is None else {"SSH_KNOWN_HOSTS": known_hosts}
    job = start_job(
        tmp_path, git_server, "ssh", ssh=ssh_server, secret=secret or ssh_server.private_key, variables=variables
    )
    try:
        job.run.run()
        stopped = not agent_running(job)
    finally:
        stop_agent(job)
    failure = failed_step(job)
    assert failure.name == "Load the SSH key into an agent"
    assert f"::error title=Private dependencies::{message}" in failure.stdout
    assert job.run.result(SETUP_STEP).outcome == "skipped"
    assert job.run.result("Stop the SSH agent").outcome == "success", job.log()
    assert stopped, "the action's last step must stop the agent it started"


def test_the_search_finds_the_secret_raw_and_base64_at_any_offset(tmp_path: Path) -> None:
    token = new_token()
    for offset in range(3):
        header = base64.b64encode(b"u" * offset + f"x-access-token:{token}".encode())
        (tmp_path / f"header{offset}").write_bytes(b"Authorization: Basic " + header)
        (tmp_path / f"blob{offset}").write_bytes(base64.b64encode(b"v" * offset + token.encode() + b"w"))
    (tmp_path / "plain").write_text(f"url = https://x-access-token:{token}@host/org/repo.git")
    (tmp_path / "clean").write_text(f"url = https://host/org/repo.git {new_token()}")
    hits, searched = find_on_disk(tmp_path, secret_needles(token))
    assert sorted(hits) == sorted(p.name for p in tmp_path.iterdir() if p.name != "clean") and searched == 8


# --- the step runner itself -------------------------------------------------------------------


def test_step_runner_refuses_what_it_does_not_understand(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - name: Uses an unknown context\n      shell: bash\n      env:\n"
        '        VALUE: ${{ github.token }}\n      run: echo "$VALUE"\n'
    )
    context = Context(workspace=tmp_path, runner_temp=tmp_path / "temp", base_env=dict(os.environ))
    with pytest.raises(WorkflowError, match="unknown expression"):
        ActionRun(action, {}, context).run()
    with pytest.raises(WorkflowError, match="no inputs named"):
        ActionRun(action, {"token": "x"}, context)
    with pytest.raises(WorkflowError, match="steps to skip"):
        ActionRun(action, {}, Context(tmp_path, tmp_path / "temp", {}, skip={"Install Poetry"}))


@pytest.mark.parametrize(
    ("condition", "failed", "expected"),
    [
        ("inputs.key == ''", False, True),
        ("${{ inputs.key != '' }}", False, False),
        ("inputs.key == ''", True, False),
        ("always() && inputs.key != ''", True, False),
        ("always() && inputs.key == ''", True, True),
        ("failure() || (inputs.name == 'ACME' && !cancelled())", False, True),
    ],
)
def test_step_conditions_follow_github_rules(condition: str, failed: bool, expected: bool) -> None:
    values = {"inputs.key": "", "inputs.name": "acme"}
    assert evaluate_condition(condition, values.__getitem__, failed) is expected

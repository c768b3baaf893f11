"""The rendered template-update workflow, run job by job against the local git server and the
GitHub API stub, keeps a hostile template release away from every credential.

Each job runs as a fresh runner would run it: its own workspace, RUNNER_TEMP and HOME, its
steps' `env:` resolved from the rendered file, `needs` outputs from the jobs before it, and
GitHub's actions played by small handlers (checkout clones from the git server, the App token
action hands out a token the server and the stub accept, artifacts are folders). copier is
copier alone (.venv-stock-copier), as pipx installs it.

- The red team's release: a template tag that narrows `_exclude` and renders `.git/config` with
  an fsmonitor program and `.git/hooks/*`. Rendered the stock way, git runs the program; through
  the workflow the render job, which holds no secret, fails naming the .git files, and the
  program never runs. A patch that writes `.git/config` (as a subverted render job could hand
  over) is refused by the write job's `git apply`, before any write token exists.
- An update with a conflict: the pull request says so in its title and lists the file; the
  branch holds the markers. The README's command prints the conflicted file and exits 1.
- The template's own guard (tests/test_template_guard.py) fails on the hostile release.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import TREE, run, tool_env
from support.engines import STOCK_COPIER
from support.github_api import GitHubApi
from support.gitserver import GitServer, new_token
from support.template_copy import commit_all, copy_template
from support.template_guard import guard_problems
from support.workflow_steps import ActionRun, Context, StepResult

pytestmark = pytest.mark.slow

WORKFLOW = ".github/workflows/template-update.yml"
JOBS = ["locate", "read", "render", "propose"]
PROJECT = "project"
APP_SLUG = "acme-template-update"
APP_KEY = "-----BEGIN RSA PRIVATE KEY-----\nnot a real key\n-----END RSA PRIVATE KEY-----"
HOSTILE_COPIER_YML = "_exclude:\n  - copier.yml\n"
LOCAL_TIMEOUT = "    timeout-minutes: 42"


# ----------------------------------------------------------------------------- a job, as a runner runs it


class JobRun(ActionRun):
    """One job of a workflow: its steps with the workflow's default shell and `needs` outputs."""

    def __init__(self, workflow: dict[str, Any], job: str, context: Context, needs: dict[str, dict[str, str]]):
        spec = workflow["jobs"][job]
        shell = workflow["defaults"]["run"]["shell"]
        self.context, self.inputs, self.needs = context, {}, needs
        self.steps = [{"shell": shell, **step} if "run" in step else step for step in spec["steps"]]
        self.outputs = {step["id"]: {} for step in self.steps if "id" in step}
        self.results: list[StepResult] = []
        self.github_env: dict[str, str] = {}
        self.github_path: list[str] = []
        self.failed = False
        self._next = 0
        self.spec = spec
        self.envs: dict[str, dict[str, str]] = {}  # each step's environment, by name
        context.runner_temp.mkdir(parents=True, exist_ok=True)

    def values(self) -> dict[str, Any]:
        return {**super().values(), "needs": {job: {"outputs": outputs} for job, outputs in self.needs.items()}}

    def env_for(self, step: dict[str, Any]) -> dict[str, str]:
        env = super().env_for(step)
        self.envs[str(step.get("name"))] = env
        return env

    def job_outputs(self) -> dict[str, str]:
        return {name: self.resolve(value) for name, value in (self.spec.get("outputs") or {}).items()}


@dataclass
class Runner:
    """What every job of one workflow run shares: the servers, the artifacts, the tokens."""

    root: Path  # this run's folders
    shared: Path  # the setup's: shims, CA bundle, the payload's log pointer
    repo: str  # the project's repository on the git server
    project: Path  # the rendered project (its workflow file)
    git: GitServer
    api: GitHubApi
    read_token: str
    write_token: str
    payload_log: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    minted: list[tuple[str, str]] = field(default_factory=list)  # (job, token)
    jobs: dict[str, JobRun] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.shared / "payload-log-path").write_text(str(self.payload_log))  # where the program writes

    def base_env(self, home: Path, temp: Path, job: str) -> dict[str, str]:
        shims = self.shared / "shims"
        bundle = self.shared / "ca-bundle.pem"
        return {
            "PATH": f"{shims}:{STOCK_COPIER.parent}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "GITHUB_REPOSITORY": f"{self.git.org}/{PROJECT}",
            "GITHUB_REPOSITORY_OWNER": self.git.org,
            "GITHUB_SERVER_URL": f"https://{self.git.host}",
            "GITHUB_API_URL": f"https://{self.api.host}/api/v3",
            "GITHUB_REF_NAME": "main",
            "GITHUB_JOB": job,
            "SSL_CERT_FILE": str(bundle),
            "GIT_SSL_CAINFO": str(bundle),
        }

    def checkout(self, workspace: Path) -> Callable[[dict[str, str]], dict[str, str]]:
        def handler(given: dict[str, str]) -> dict[str, str]:
            assert given == {"persist-credentials": "False"}  # YAML false, as str() reads it
            url = self.git.url(self.repo)
            helper = f"!f() {{ echo username=x; echo password={self.git.token}; }}; f"
            subprocess.run(
                ["git", "-c", f"credential.helper={helper}", "clone", "-q", "--", url, str(workspace)],
                env={**self.base_env(workspace, workspace, "checkout"), "GIT_CONFIG_GLOBAL": os.devnull},
                check=True,
                capture_output=True,
            )
            return {}

        return handler

    def app_token(self, job: str) -> Callable[[dict[str, str]], dict[str, str]]:
        def handler(given: dict[str, str]) -> dict[str, str]:
            assert given["private-key"] == APP_KEY
            token = self.write_token if given.get("permission-contents") == "write" else self.read_token
            self.minted.append((job, token))
            return {"token": token, "app-slug": APP_SLUG}

        return handler

    def upload(self, given: dict[str, str]) -> dict[str, str]:
        stored = self.root / "artifacts" / given["name"]
        shutil.copytree(given["path"], stored)
        self.artifacts[given["name"]] = stored
        return {}

    def download(self, given: dict[str, str]) -> dict[str, str]:
        shutil.copytree(self.artifacts[given["name"]], given["path"], dirs_exist_ok=True)
        return {}

    def run_job(self, job: str, **github: Any) -> JobRun:
        """A fresh runner for `job`: its own folders, the outputs of the jobs it needs."""
        workflow = yaml.safe_load((self.project / WORKFLOW).read_text())
        where = self.root / job
        workspace, temp, home = where / "workspace", where / "temp", where / "home"
        home.mkdir(parents=True)
        needs = workflow["jobs"][job].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        context = Context(
            workspace=workspace,
            runner_temp=temp,
            base_env=self.base_env(home, temp, job),
            secrets={"TEMPLATE_UPDATE_APP_PRIVATE_KEY": APP_KEY},
            vars={"TEMPLATE_UPDATE_APP_CLIENT_ID": "Iv23liAcme"},
            uses={
                "actions/checkout": self.checkout(workspace),
                "actions/setup-python": None,
                "actions/create-github-app-token": self.app_token(job),
                "actions/upload-artifact": self.upload,
                "actions/download-artifact": self.download,
            },
            # pipx's copier is .venv-stock-copier's, on PATH (and behind the pipx shim).
            skip={"Install copier"},
            github={
                "server_url": f"https://{self.git.host}",
                "repository": f"{self.git.org}/{PROJECT}",
                "repository_owner": self.git.org,
                "workflow": "Template update",
                "event_name": "schedule",
                "ref_name": "main",
                "event": {"repository": {"name": PROJECT}},
                **github,
            },
        )
        if not workspace.exists():
            workspace.mkdir()
        runner = JobRun(workflow, job, context, {name: self.jobs[name].job_outputs() for name in needs})
        runner.run()
        self.jobs[job] = runner
        return runner

    def payload_runs(self) -> list[str]:
        return self.payload_log.read_text().split("=== ")[1:] if self.payload_log.exists() else []


def failures(job: JobRun) -> str:
    return "\n".join(f"{r.name}: {r.outcome}\n{r.output}" for r in job.results if r.outcome == "failure")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubApi]:
    with GitHubApi(tmp_path_factory.mktemp("github-api"), f"acme/{PROJECT}", new_token()) as server:
        yield server


def hostile_release(template: Path, env: dict[str, str], payload: Path) -> None:
    """v0.1.1 of the red team: `_exclude` narrowed, `.git/config` with an fsmonitor program, hooks."""
    questions = template / "copier.yml"
    text, count = re.subn(r"^_exclude:\n(  - .*\n)+", HOSTILE_COPIER_YML, questions.read_text(), flags=re.M)
    assert count == 1, "copier.yml has no _exclude block to narrow"
    questions.write_text(text)
    git_dir = template / TREE.name / "{{ '.git' }}"
    (git_dir / "hooks").mkdir(parents=True)
    (git_dir / "config").write_text(
        f"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tfsmonitor = {payload}\n"
    )
    for hook in ("pre-commit", "post-checkout", "post-commit", "reference-transaction"):
        (git_dir / "hooks" / hook).write_text(f"#!/bin/sh\n{payload}\nexit 0\n")  # a hook that lets git go on
        (git_dir / "hooks" / hook).chmod(0o755)
    commit_all(template, env, "v0.1.1")
    run(["git", "tag", "v0.1.1"], template, env)


def conflicting_release(template: Path, env: dict[str, str]) -> None:
    """v0.2.0: the CI workflow's first timeout changes, where the project changed it too."""
    ci = template / TREE.name / ".github" / "workflows" / "ci.yml"
    text, count = re.subn(r"^    timeout-minutes: \d+$", "    timeout-minutes: 33", ci.read_text(), count=1, flags=re.M)
    assert count == 1
    ci.write_text(text)
    commit_all(template, env, "v0.2.0")
    run(["git", "tag", "v0.2.0"], template, env)


def point_answers_at(project: Path, source: object) -> None:
    answers = project / ".copier-answers.yml"
    answers.write_text(re.sub(r"^_src_path: .*$", f"_src_path: {source}", answers.read_text(), flags=re.M))


@dataclass
class Setup:
    """A template with its next release, a project generated from the one before, both served."""

    root: Path
    template: Path
    project: Path  # as generated, with a local edit, committed
    repo: str  # the project's repository on the git server
    env: dict[str, str]
    git: GitServer
    api: GitHubApi
    read_token: str

    def runner(self, tmp_path: Path) -> Runner:
        """Fresh runners for one run of the workflow, their program log in `tmp_path`."""
        return Runner(
            tmp_path,
            self.root,
            self.repo,
            self.project,
            self.git,
            self.api,
            self.read_token,
            self.api.token,
            tmp_path / "payload.log",
        )

    def by_hand(self, tmp_path: Path) -> Path:
        """A developer's clone, updating from the template's local copy as a person would."""
        clone = tmp_path / "clone"
        run(["git", "clone", "-q", "--", str(self.project), str(clone)], tmp_path, self.env)
        point_answers_at(clone, self.template)
        commit_all(clone, self.env, "local source")
        return clone


def make_setup(root: Path, git_server: GitServer, api: GitHubApi, release: str) -> Setup:
    env = tool_env(root / "home")
    template = copy_template(root / "template", env)
    payload = root / "payload.sh"
    # The program the hostile release names: it records where it ran and what it could see, in
    # the log the current test names.
    payload.write_text(f'#!/bin/sh\n{{ echo "=== $(pwd)"; env; }} >> "$(cat {root}/payload-log-path)"\nexit 1\n')
    payload.chmod(0o755)
    project = root / "generated"
    data = {"template_update_workflow": True, "update_bot": "none"}
    command = [str(STOCK_COPIER), "copy", "--defaults", "--quiet", "--vcs-ref", "v0.1.0"]
    command += [arg for key, value in data.items() for arg in ("--data", f"{key}={str(value).lower()}")]
    run([*command, str(template), str(project)], root, env)
    point_answers_at(project, git_server.url(f"template-{release}"))
    ci = project / ".github" / "workflows" / "ci.yml"
    ci.write_text(re.sub(r"^    timeout-minutes: \d+$", LOCAL_TIMEOUT, ci.read_text(), count=1, flags=re.M))
    commit_all(project, env, "Generated, with a local edit", init=True)
    if release == "hostile":
        hostile_release(template, env, payload)
    else:
        conflicting_release(template, env)
    git_server.publish(template, f"template-{release}")
    repo = f"{PROJECT}-{release}"
    git_server.publish(project, repo)
    read_token = new_token()
    git_server.allow(read_token, f"template-{release}")
    git_server.allow(api.token, repo, write=True)
    venvs = root / "pipx-venvs"
    (venvs / "copier" / "bin").mkdir(parents=True)
    (venvs / "copier" / "bin" / "python").symlink_to(STOCK_COPIER.parent / "python")
    (root / "shims").mkdir()
    (root / "shims" / "pipx").write_text(f"#!/bin/sh\necho {venvs}\n")
    (root / "shims" / "pipx").chmod(0o755)
    (root / "ca-bundle.pem").write_bytes(git_server.ca_bundle.read_bytes() + api.ca_bundle.read_bytes())
    return Setup(root, template, project, repo, env, git_server, api, read_token)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, git_server: GitServer, api: GitHubApi) -> Setup:
    return make_setup(tmp_path_factory.mktemp("hostile"), git_server, api, "hostile")


@pytest.fixture(scope="module")
def conflicting(tmp_path_factory: pytest.TempPathFactory, git_server: GitServer, api: GitHubApi) -> Setup:
    return make_setup(tmp_path_factory.mktemp("conflicting"), git_server, api, "conflict")


# ----------------------------------------------------------------------------- the hostile release


def test_the_hostile_release_runs_its_program_when_rendered_the_stock_way(hostile: Setup, tmp_path: Path) -> None:
    """The fixture is live: plain `copier update` then `git status` runs the program."""
    setup, runner = hostile, hostile.runner(tmp_path)
    clone = setup.by_hand(tmp_path)
    run([str(STOCK_COPIER), "update", "--defaults", "--conflict", "inline", "--vcs-ref", "v0.1.1"], clone, setup.env)
    assert "fsmonitor" in (clone / ".git" / "config").read_text()
    run(["git", "status"], clone, setup.env)
    assert runner.payload_runs(), "the hostile release's program did not run"
    assert guard_problems(setup.template, tmp_path / "guard", ("defaults",)), (
        "the template's guard let the hostile release pass"
    )


def test_the_hostile_release_stops_in_the_render_job_which_holds_no_secret(hostile: Setup, tmp_path: Path) -> None:
    runner = hostile.runner(tmp_path)
    locate = runner.run_job("locate")
    assert not locate.failed, failures(locate)
    read = runner.run_job("read")
    assert not read.failed, failures(read)
    assert read.job_outputs() == {"version": "v0.1.1"}
    render = runner.run_job("render")
    assert render.failed
    [failed] = [result for result in render.results if result.outcome == "failure"]
    assert failed.name == "Render the update"
    assert "::error title=Template update::the template wrote inside .git (" in failed.output
    for name in (".git/config", ".git/hooks/pre-commit", ".git/hooks/post-checkout"):
        assert name in failed.output
    # No process of the render job held a secret: none minted there, none in any step's env or inputs.
    assert [job for job, _ in runner.minted] == ["read"]
    secrets = {APP_KEY, runner.read_token, runner.write_token, hostile.git.token}
    for name, env in render.envs.items():
        assert not secrets & set(env.values()), name
        assert not any(secret in value for secret in secrets for value in env.values()), name
    assert runner.payload_runs() == [], "the program ran"
    assert "template-update-patch" not in runner.artifacts


def test_a_patch_into_git_is_refused_before_any_write_token_exists(hostile: Setup, tmp_path: Path) -> None:
    """What a subverted render job could hand over: the write job's git apply refuses it."""
    runner, api = hostile.runner(tmp_path), hostile.api
    api.pulls.clear()
    for job in ("locate", "read"):
        assert not runner.run_job(job).failed
    patch_dir = tmp_path / "hostile-patch"
    patch_dir.mkdir()
    config = "[core]\n\tfsmonitor = " + str(hostile.root / "payload.sh") + "\n"
    lines = config.splitlines()
    (patch_dir / "update.patch").write_text(
        "diff --git a/.git/config b/.git/config\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/.git/config\n@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)
    )
    runner.artifacts["template-update-patch"] = patch_dir
    runner.jobs["render"] = runner.jobs["read"]  # only its (empty) outputs are read
    propose = runner.run_job("propose")
    apply = propose.result("Apply the patch")
    assert apply.outcome == "failure"
    # git apply refuses it ("already exists", or "invalid path" where the file is new to it).
    assert "::error title=Template update::git apply failed: error: .git/config" in apply.output
    assert "fsmonitor" not in (tmp_path / "propose" / "workspace" / ".git" / "config").read_text()
    assert [job for job, _ in runner.minted] == ["read"], "a write token was minted"
    assert propose.result("Commit and open the pull request").outcome == "skipped"
    assert runner.payload_runs() == []
    assert api.pulls == []


# ----------------------------------------------------------------------------- conflicts, visible


def test_a_conflicting_update_opens_a_pull_request_that_says_so_and_lists_the_file(
    conflicting: Setup, tmp_path: Path
) -> None:
    setup, runner, api = conflicting, conflicting.runner(tmp_path), conflicting.api
    api.pulls.clear()
    for job in JOBS:
        result = runner.run_job(job)
        assert not result.failed, f"{job}:\n{failures(result)}"
    assert runner.read_token in runner.jobs["read"].envs["Fetch the template and this repository's files"].values()
    # The write token exists in the write job only, and only in the step that needs it.
    assert runner.minted == [("read", runner.read_token), ("propose", runner.write_token)]
    for job in ("locate", "read", "render"):
        assert not any(runner.write_token in value for env in runner.jobs[job].envs.values() for value in env.values())
    [pull] = api.pulls
    assert pull["title"] == "Update from the project template v0.2.0 (conflicts in 1 file)"
    assert pull["head"] == "template-update/v0.2.0" and pull["base"] == "main"
    assert "**Conflicts to resolve before merging**" in pull["body"]
    assert "- `.github/workflows/ci.yml`" in pull["body"]
    pushed = setup.git.root / setup.git.org / f"{setup.repo}.git"

    def on_server(*arguments: str) -> str:
        return run(["git", "--git-dir", str(pushed), *arguments], tmp_path, setup.env).stdout

    ci = on_server("show", "template-update/v0.2.0:.github/workflows/ci.yml")
    assert "<<<<<<< before updating" in ci and LOCAL_TIMEOUT in ci and "timeout-minutes: 33" in ci
    author = on_server("log", "-1", "--format=%an <%ae>", "template-update/v0.2.0").strip()
    assert author == f"{APP_SLUG}[bot] <41898282+{APP_SLUG}[bot]@users.noreply.github.com>"


def test_the_readme_command_lists_the_conflicted_files_and_exits_non_zero(conflicting: Setup, tmp_path: Path) -> None:
    setup = conflicting
    clone = setup.by_hand(tmp_path)
    readme = (clone / "README.md").read_text()
    [command] = re.findall(r"^python3 scripts/template_update\.py.*$", readme, re.M)
    env = {**setup.env, "PATH": f"{STOCK_COPIER.parent}:{setup.env['PATH']}"}
    result = run([*command.split(), "--defaults"], clone, env, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Conflicts in 1 file(s)" in result.stdout
    assert "  .github/workflows/ci.yml" in result.stdout.splitlines()


def test_the_readme_command_stops_a_hostile_release_and_puts_git_back(hostile: Setup, tmp_path: Path) -> None:
    setup, runner = hostile, hostile.runner(tmp_path)
    clone = setup.by_hand(tmp_path)
    config = (clone / ".git" / "config").read_bytes()
    env = {**setup.env, "PATH": f"{STOCK_COPIER.parent}:{setup.env['PATH']}"}
    result = run(["python3", "scripts/template_update.py", "--defaults"], clone, env, check=False)
    assert result.returncode == 1
    assert "error: the template wrote inside .git (.git/config, .git/hooks/" in result.stderr
    assert (clone / ".git" / "config").read_bytes() == config
    assert not (clone / ".git" / "hooks" / "pre-commit").exists()
    run(["git", "status"], clone, setup.env)
    assert runner.payload_runs() == [], "the program ran"

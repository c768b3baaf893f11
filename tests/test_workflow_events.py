"""What each kind of run may do, for every option set: the rendered workflows and setup action
evaluated for a push to the default branch, a push to another branch, a pull request from the
same repository and from a fork, a tag push, a schedule and a manual run
(tests/support/workflow_plan.py: `on:`, every `if:`, concurrency, `env:` and `with:` read with
GitHub's expression rules; an earlier step's outputs take every value they could have).

- Caches are saved by pushes to the default branch only, by every workflow and by the setup
  action whatever workflow uses it; such a push does save each cache it restores. The one
  exception is the credential job's hand-off (SAVED_ON_EVERY_EVENT): saved on every event under
  the key of what it holds, by the job each installing job needs; never in fork-safe mode.
- CI's jobs run for every pull request (a fork's too), push to the default branch and manual run;
  the release runs on tags only, the template update on its schedule and by hand; no job that
  can write runs for a pull request. A pull request's new push cancels its previous run; nothing
  else is ever cancelled.
- The release gate runs on every tag push whatever earlier steps output, and nothing runs after
  a failed step of the release.
- A fork's pull request gets no step that holds a secret, and is told which secret is missing.
- The org credential reaches no step that runs third-party code (the project's scripts a step
  calls read too), and one job only, which runs none (fork-safe: the jobs that install); a step
  holding it runs bash -p, which reads no file an earlier step named. The GitHub App key reaches
  only the token action (the template update's only in its protected environment).
- git offers a credential, and rewrites URLs, for the configured host only (asked of git itself,
  the fetch script's settings included); ssh reads no config file, checks the host key strictly
  against the known_hosts lines of the SSH_KNOWN_HOSTS variable and offers only the key of the
  agent the step started in a fresh directory (asked of `ssh -G`).
- The update bots wait before taking a release; Poetry, reading the project's poetry.toml, uses
  the system git client and an in-project .venv, which CI caches.

PLANTED (at the end) shows each kind of check failing on a rendered file with a mistake in it;
quality/mutate_workflows.py plants a catalogue of such mistakes in the template itself.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support import BIN, OPTION_SETS, Project, answers_for, require_tool, tool_env
from support.expressions import ExpressionError, outcomes
from support.modes import secret_of
from support.workflow_plan import PlannedJob, PlannedRun, PlannedStep, plan, plan_action
from support.workflow_steps import EVENTS, Event

PUSH_TO_DEFAULT = EVENTS["push to the default branch"]
FORK = EVENTS["pull request from a fork"]
TAG = EVENTS["tag push"]
PULL_REQUESTS = [event for event in EVENTS.values() if event.event_name == "pull_request"]
# Secrets only the jobs of a deployment environment get (README, docs/updating.md).
ENVIRONMENTS = {"template-update": {"TEMPLATE_UPDATE_APP_PRIVATE_KEY"}}
APP_KEYS = {"APP_PRIVATE_KEY", "TEMPLATE_UPDATE_APP_PRIVATE_KEY"}
# The package index's credential stays with the install, where Poetry needs it (README).
INDEX_SECRETS = {"PACKAGE_INDEX_USERNAME", "PACKAGE_INDEX_PASSWORD"}
RUNNER_TEMP = "/home/runner/work/_temp"
# The credential job's hand-off: the locked private sources, fetched without history, which the
# jobs that install read in the same run. Saved on every event by design, by that job alone, under
# the key of what it holds (the lock's git sources, named by the check script): path -> key.
HAND_OFF = f"{RUNNER_TEMP}/private-sources"
SAVED_ON_EVERY_EVENT = {HAND_OFF: "${{ steps.locked.outputs.key }}"}
# Commands that run code nobody in the organization reviewed: a package, a hook, a plugin.
THIRD_PARTY = re.compile(
    r"(?:^|[\s;|&(/])(?:poetry|pip|pipx|pytest|pre-commit|ruff|mypy|copier|npm|npx|uv)(?=\s|$)"
    # Python with its site-packages: every .pth file of an installed package runs.
    # Also the interpreter setup-python reported, by the variable the steps name it with.
    r"|(?:^|[\s;|&(/])(?:python3?(?:\.\d+)?|\"?\$\{PYTHON\}\"?)(?=\s)(?!\s+-I\s+-S\b)",
    re.M,
)


# --- plans -----------------------------------------------------------------------------------


@cache
def runs_of(path: Path, host: str, event: Event) -> list[PlannedRun]:
    """Every run of every workflow of the project that `event` starts."""
    found = []
    for workflow in sorted((path / ".github" / "workflows").glob("*.y*ml")):
        relative = workflow.relative_to(path).as_posix()
        found += plan(path, relative, event, environments=ENVIRONMENTS, host=host)
    return found


def project_runs(project: Project, name: str, event: Event) -> list[PlannedRun]:
    return runs_of(project.path, answers_for(OPTION_SETS[name])["github_host"], event)


def local_actions(project: Project) -> list[str]:
    return sorted(
        path.parent.relative_to(project.path).as_posix() for path in project.path.glob(".github/actions/*/action.y*ml")
    )


def saves(step: PlannedStep, path: str | None = None) -> bool:
    """It may save a cache (at `path`) on this event."""
    if not step.when or not step.uses.startswith(("actions/cache/save@", "actions/cache@")):
        return False
    return path is None or step.inputs.get("path") == path


def hand_off(step: PlannedStep) -> bool:
    """A workflow's own step (no action's: those run in the jobs that install) that saves what
    SAVED_ON_EVERY_EVENT names, under the key of what it holds."""
    path = step.inputs.get("path", "")
    key = str((step.spec.get("with") or {}).get("key", ""))
    return not step.action and path in SAVED_ON_EVERY_EVENT and key == SAVED_ON_EVERY_EVENT[path]


def saves_cache(step: PlannedStep) -> bool:
    """It may save a cache on this event, and no other: only pushes to the default branch save,
    but for the credential job's content-keyed hand-off."""
    return saves(step) and not hand_off(step)


def where(run: PlannedRun, step: PlannedStep) -> str:
    inside = f" ({step.action})" if step.action else ""
    return f"{run.workflow} on {run.event.label} as {run.trigger}: {step.job}: {step.name}{inside}"


def scripts_run(step: PlannedStep, project: Path) -> dict[str, str]:
    """The project's shell scripts a step runs, and those they source: name -> text."""
    found: dict[str, str] = {}
    pending = re.findall(r"\bscripts/[\w.-]+\.sh\b", step.script)
    while pending:
        name = pending.pop()
        if name not in found and (project / name).is_file():
            found[name] = (project / name).read_text()
            pending += re.findall(r"^\s*(?:\.|source)\s+(scripts/[\w.-]+\.sh)\b", found[name], re.M)
    return found


def step_text(step: PlannedStep, project: Path) -> str:
    """What the step runs: its script and the project's scripts it calls."""
    return "\n".join([step.script, *scripts_run(step, project).values()])


# --- caches ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTION_SETS)
def test_caches_are_saved_only_by_pushes_to_the_default_branch(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name]
    answers = answers_for(OPTION_SETS[name])
    host = answers["github_host"]
    problems = []
    for event in EVENTS.values():
        if answers["fork_safe_caches"]:
            # A fork's run restores what the default branch saved: no hand-off, on any event.
            problems += [
                f"fork-safe: {where(run, step)} saves {HAND_OFF}"
                for run in project_runs(project, name, event)
                for step in run.steps()
                if saves(step, HAND_OFF)
            ]
        if event is PUSH_TO_DEFAULT:
            continue
        for run in project_runs(project, name, event):
            problems += [f"{where(run, step)}: {step.inputs.get('path')}" for step in run.steps() if saves_cache(step)]
        # The action on its own: whatever workflow uses it, on whatever event.
        for action in local_actions(project):
            steps = plan_action(project.path, action, event, host)
            problems += [f"{action} on {event.label}: {step.inputs.get('path')}" for step in steps if saves_cache(step)]
    assert problems == []


@pytest.mark.parametrize("name", OPTION_SETS)
def test_a_push_to_the_default_branch_saves_every_cache_it_restores(rendered: dict[str, Project], name: str) -> None:
    """The hand-off, which the action restores but never saves, is saved on every event by a job
    that each job using the action needs, under the key that job hands on."""
    project = rendered[name]
    host = answers_for(OPTION_SETS[name])["github_host"]
    restored_anywhere, handed_over = set(), set()
    for action in local_actions(project):
        steps = plan_action(project.path, action, PUSH_TO_DEFAULT, host)
        restored = {step.inputs["path"] for step in steps if step.uses.startswith("actions/cache/restore@")}
        saved = {step.inputs["path"] for step in steps if step.uses.startswith("actions/cache/save@") and step.runs}
        handed_over |= restored & set(SAVED_ON_EVERY_EVENT)
        restored -= set(SAVED_ON_EVERY_EVENT)
        assert restored <= saved, f"{action}: restored {sorted(restored)}, saved {sorted(saved)}"
        restored_anywhere |= restored
    assert restored_anywhere, "no cache at all"
    for event in [*PULL_REQUESTS, PUSH_TO_DEFAULT, EVENTS["manual run"]]:
        [run] = [run for run in project_runs(project, name, event) if run.workflow.endswith("/ci.yml")]
        for job in run.jobs.values():
            if not any(step.uses.startswith(("./", "$/")) for step in job.steps) or not handed_over:
                continue
            # The key the job gives the action: an output of a job it needs.
            [setup] = [step for step in job.steps if step.uses.startswith(("./", "$/"))]
            given = re.fullmatch(
                r"\$\{\{ needs\.([\w-]+)\.outputs\.([\w-]+) \}\}", setup.spec["with"].get("sources-key", "")
            )
            assert given and given[1] in needed(run, job.id), f"{job.id}: sources-key {setup.spec['with']}"
            saver = run.jobs[given[1]]
            for path in handed_over:
                saving = [step for step in saver.steps if saves(step, path) and step.runs and hand_off(step)]
                assert saving, f"{event.label}: {job.id} restores {path}, which {saver.id} does not save"
                hands_on = saver.spec.get("outputs", {}).get(given[2])
                assert [step.spec["with"]["key"] for step in saving] == [hands_on], f"{saver.id}: {hands_on}"


# --- which jobs run --------------------------------------------------------------------------


def jobs_run(runs: list[PlannedRun], workflow: str) -> set[str]:
    return {job.id for run in runs if run.workflow.endswith(f"/{workflow}") for job in run.jobs.values() if job.runs}


def shipped(project: Project, workflow: str) -> bool:
    return (project / ".github" / "workflows" / workflow).is_file()


@pytest.mark.parametrize("name", OPTION_SETS)
def test_ci_runs_every_job_for_pull_requests_forks_included_pushes_to_the_default_branch_and_manual_runs(
    rendered: dict[str, Project], name: str
) -> None:
    project = rendered[name]
    every_job = set(project.yaml(".github/workflows/ci.yml")["jobs"])
    for event in [*PULL_REQUESTS, PUSH_TO_DEFAULT, EVENTS["manual run"]]:
        # Branch protection requires these checks: a job skipped on some event blocks its merge.
        assert jobs_run(project_runs(project, name, event), "ci.yml") == every_job, event.label


@pytest.mark.parametrize("name", OPTION_SETS)
def test_the_release_and_the_template_update_run_only_on_their_own_events(
    rendered: dict[str, Project], name: str
) -> None:
    project = rendered[name]
    expected = {"release.yml": {TAG.label}, "template-update.yml": {"schedule", "manual run"}}
    for workflow, events in expected.items():
        if not shipped(project, workflow):
            continue
        every_job = set(project.yaml(f".github/workflows/{workflow}")["jobs"])
        for event in EVENTS.values():
            want = every_job if event.label in events else set()
            assert jobs_run(project_runs(project, name, event), workflow) == want, f"{workflow} on {event.label}"


def writes(job: dict[str, Any]) -> list[str]:
    permissions = job.get("permissions")
    if not isinstance(permissions, dict):
        return [f"permissions {permissions!r}"]
    return [scope for scope, level in permissions.items() if level == "write"]


@pytest.mark.parametrize("name", OPTION_SETS)
def test_no_job_that_can_write_runs_for_a_pull_request(rendered: dict[str, Project], name: str) -> None:
    for event in PULL_REQUESTS:
        for run in project_runs(rendered[name], name, event):
            for job in run.jobs.values():
                assert not (job.runs and writes(job.spec)), f"{run.workflow}: {job.id} on {event.label}"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_only_a_pull_requests_new_push_cancels_a_run(rendered: dict[str, Project], name: str) -> None:
    for event in EVENTS.values():
        for run in project_runs(rendered[name], name, event):
            _, cancel = run.concurrency()
            assert cancel is (run.trigger == "pull_request"), f"{run.workflow} on {event.label}: {cancel!r}"


# --- the release gate ------------------------------------------------------------------------


def publishes(step: PlannedStep) -> bool:
    return bool(re.search(r"\bgh release\b", step.script))


def asks_for_ci(step: PlannedStep, project: Project) -> bool:
    """The step asks the API for CI's runs, in its own script or in a script of the project it runs."""
    called = [project.path / name for name in re.findall(r"\bscripts/[\w.-]+", step.script)]
    text = step.script + "".join(path.read_text() for path in called if path.is_file())
    return "actions/workflows/ci.yml/runs" in text


def needed(run: PlannedRun, job_id: str) -> set[str]:
    """The jobs `job_id` needs, directly or through others."""
    found, pending = set(), list(run.jobs[job_id].needs)
    while pending:
        if (job := pending.pop()) not in found:
            found.add(job)
            pending += run.jobs[job].needs
    return found


@pytest.mark.parametrize("name", [name for name in OPTION_SETS if answers_for(OPTION_SETS[name])["release_workflow"]])
def test_the_release_gate_runs_on_every_tag_and_nothing_runs_after_a_failed_step(
    rendered: dict[str, Project], name: str
) -> None:
    [run] = [run for run in project_runs(rendered[name], name, TAG) if run.workflow.endswith("/release.yml")]
    for job in run.jobs.values():
        assert job.runs, job.id
        assert "failure" not in job.when, f"{job.id} runs after a job it needs failed"
        steps = [step for step in job.steps if not step.action]
        publish = [n for n, step in enumerate(steps) if publishes(step)]
        gate = [n for n, step in enumerate(steps) if asks_for_ci(step, rendered[name])]
        gated_before = any(
            asks_for_ci(step, rendered[name]) for other in needed(run, job.id) for step in run.jobs[other].steps
        )
        if publish:
            assert gated_before or (gate and max(gate) < min(publish)), f"{job.id}: no CI gate before publishing"
        for step in steps:
            # Each step is part of the gate or needs it: none may be skipped, none may fail quietly.
            assert step.certain, f"{job.id}: {step.name} can be skipped by its if: on a tag push"
            assert not step.spec.get("continue-on-error"), (
                f"{job.id}: {step.name} may fail without stopping the release"
            )
        for step in steps[1:]:
            assert "failure" not in step.when, f"{job.id}: {step.name} runs after a failed step"


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTION_SETS)
def test_no_step_holds_a_secret_in_a_run_a_fork_can_start(rendered: dict[str, Project], name: str) -> None:
    runs = project_runs(rendered[name], name, FORK)
    assert runs, "CI must run for a fork's pull request"
    held = [f"{where(run, step)}: {sorted(step.secrets())}" for run in runs for step in run.steps() if step.secrets()]
    assert held == []


@pytest.mark.parametrize("name", OPTION_SETS)
def test_a_fork_pull_request_is_told_which_secret_is_missing(rendered: dict[str, Project], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    if not answers["private_dependencies"]:
        pytest.skip("no private dependency, no secret")
    secret = secret_of(answers["git_auth"], answers["token_secret_name"])
    for run in project_runs(rendered[name], name, FORK):
        for job in run.jobs.values():
            told = [step for step in job.steps if step.certain and names_the_secret(step, rendered[name].path, secret)]
            uses_secret = any(f"secrets.{secret}" in json.dumps(step.spec) for step in job.steps)
            assert told or not uses_secret, f"{job.id}: no step that surely runs names the missing secret {secret}"


def names_the_secret(step: PlannedStep, project: Path, secret: str) -> bool:
    """The step runs the check script's preflight naming `secret`: in its own script, or in a
    script of the project it calls with `--secret NAME`, on a line of that script's top level (no
    condition around it)."""
    if re.search(rf"preflight\b.*--secret {secret}\b", step.script):
        return True
    return bool(re.search(rf"scripts/[\w.-]+\.sh\b.*--secret {secret}\b", step.script)) and any(
        re.search(r'^[^\s#][^\n#]*\bpreflight --secret "\$\{secret\}"', text, re.M)
        for text in scripts_run(step, project).values()
    )


def org_secrets(step: PlannedStep) -> set[str]:
    """The git credential's markers a step holds: secrets and tokens minted from them, not the
    package index's credential."""
    return {marker for marker in step.secrets() if marker[len("<secret ") : -1] not in INDEX_SECRETS}


def third_party(step: PlannedStep, project: Path) -> str:
    """What in the step, or in a script of the project it calls, runs third-party code, or ""."""
    if step.uses and not step.uses.startswith(("./", "$/", "actions/")):
        return step.uses
    found = THIRD_PARTY.search(step_text(step, project))
    return found[0].strip() if found else ""


@pytest.mark.parametrize("name", OPTION_SETS)
def test_the_org_credential_never_reaches_a_step_that_runs_third_party_code(
    rendered: dict[str, Project], name: str
) -> None:
    problems = []
    for event in EVENTS.values():
        for run in project_runs(rendered[name], name, event):
            if not run.workflow.endswith("/ci.yml"):
                continue
            for step in run.steps():
                runs = third_party(step, rendered[name].path)
                if org_secrets(step) and runs and not step.uses.startswith(("./", "$/")):
                    problems.append(f"{where(run, step)} runs {runs} with {sorted(org_secrets(step))}")
    assert problems == []


def installs(job: PlannedJob) -> bool:
    return any(step.uses.startswith(("./", "$/")) for step in job.steps)


@pytest.mark.parametrize("name", OPTION_SETS)
def test_the_org_credential_is_held_by_one_job_that_runs_no_third_party_code(
    rendered: dict[str, Project], name: str
) -> None:
    """Every secret a job references is in its runner's memory for the whole job: only the
    credential job may hold the org credential, and it runs nothing third-party. In fork-safe mode
    each job that installs fetches for itself, so holds it (README)."""
    fork_safe = answers_for(OPTION_SETS[name])["fork_safe_caches"]
    project = rendered[name].path
    for event in EVENTS.values():
        for run in project_runs(rendered[name], name, event):
            if not run.workflow.endswith("/ci.yml"):
                continue
            holders = {job.id: job for job in run.jobs.values() if any(org_secrets(step) for step in job.steps)}
            if fork_safe:
                assert all(installs(job) for job in holders.values()), f"{event.label}: {sorted(holders)}"
                continue
            assert len(holders) <= 1, f"{event.label}: the org credential is in the jobs {sorted(holders)}"
            for job in holders.values():
                ran = [f"{step.name}: {third_party(step, project)}" for step in job.steps if third_party(step, project)]
                assert ran == [] and not installs(job), f"{event.label}: {job.id} holds it and runs {ran}"


HARDENED_SHELL = "/bin/bash --noprofile --norc -p -e {0}"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_a_step_with_the_org_credential_reads_nothing_an_earlier_step_could_write(
    rendered: dict[str, Project], name: str
) -> None:
    """bash -p reads no BASH_ENV or ENV file (an earlier step can set them through GITHUB_ENV), and
    every bash the step starts is started the same way."""
    problems = []
    for run in project_runs(rendered[name], name, PUSH_TO_DEFAULT):
        for step in run.steps():
            if not org_secrets(step) or step.uses:
                continue
            if step.spec.get("shell") != HARDENED_SHELL:
                problems.append(f"{where(run, step)}: shell {step.spec.get('shell')!r}")
            for text in (step.script, *scripts_run(step, rendered[name].path).values()):
                code = re.sub(r"(?:^|\s)#.*$", "", text, flags=re.M)  # comments and the #! line
                for started in re.findall(r"(?:^|[\s;|&(])((?:/bin/)?bash\b[^\n;|&]*)", code, re.M):
                    if not started.startswith("/bin/bash --noprofile --norc -p "):
                        problems.append(f"{where(run, step)}: starts {started!r}")
    assert problems == []


def app_key_holders(run: PlannedRun) -> list[PlannedStep]:
    return [step for step in run.steps() if {f"<secret {key}>" for key in APP_KEYS} & step.secrets()]


@pytest.mark.parametrize("name", OPTION_SETS)
def test_the_app_key_reaches_only_the_token_action(rendered: dict[str, Project], name: str) -> None:
    problems = []
    for event in EVENTS.values():
        for run in project_runs(rendered[name], name, event):
            for step in app_key_holders(run):
                if step.uses.startswith(("./", "$/")):
                    continue  # handed to the local action as an input: its own steps are checked
                token_action = step.uses.startswith("actions/create-github-app-token@")
                only_there = [
                    key for key, text in {**step.env, **step.inputs}.items() if "<secret " in text and "APP" in text
                ]
                if not token_action or only_there != ["private-key"]:
                    problems.append(f"{where(run, step)}: {only_there}")
    assert problems == []


@pytest.mark.parametrize("name", [n for n in OPTION_SETS if answers_for(OPTION_SETS[n])["template_update_workflow"]])
def test_the_template_update_key_is_read_only_in_its_protected_environment(
    rendered: dict[str, Project], name: str
) -> None:
    """Its key is a secret of the environment `template-update` alone (limited to the default
    branch): a job outside it gets an empty key, and no other job may get it."""
    for event in (EVENTS["schedule"], EVENTS["manual run"]):
        [run] = [
            run for run in project_runs(rendered[name], name, event) if run.workflow.endswith("/template-update.yml")
        ]
        minting = [step for step in run.steps() if step.uses.startswith("actions/create-github-app-token@")]
        assert minting, "the update mints its tokens with the App"
        for step in minting:
            assert step.inputs["private-key"] == "<secret TEMPLATE_UPDATE_APP_PRIVATE_KEY>", (
                f"{step.name}: not in its environment"
            )
        for job in run.jobs.values():
            if any("TEMPLATE_UPDATE_APP_PRIVATE_KEY" in json.dumps(step.spec) for step in job.steps):
                assert job.spec.get("environment") in ("template-update", {"name": "template-update"}), job.id


# --- git and ssh, asked of the tools themselves ------------------------------------------------


def git_config_of(env: dict[str, str]) -> dict[str, str]:
    """A step's GIT_CONFIG_COUNT/KEY/VALUE variables alone."""
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    keys = {"GIT_CONFIG_COUNT": str(count)}
    for index in range(count):
        keys[f"GIT_CONFIG_KEY_{index}"] = env[f"GIT_CONFIG_KEY_{index}"]
        keys[f"GIT_CONFIG_VALUE_{index}"] = env[f"GIT_CONFIG_VALUE_{index}"]
    return keys


def git(config: dict[str, str], home: Path, *arguments: str) -> str:
    env = {**tool_env(home), **config, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
    result = subprocess.run(["git", *arguments], capture_output=True, text=True, env=env, cwd=home, timeout=30)
    return result.stdout.strip()


def probes(host: str) -> list[str]:
    """URLs on other hosts that a credential or a rewrite meant for `host` must not reach."""
    name = host.partition(":")[0]
    return [
        "https://evil.example.com/org/lib.git",
        f"https://{name}.evil.example.com/org/lib.git",
        f"https://evil.example.com/{host}/org/lib.git",
        f"http://{host}/org/lib.git",
        f"https://{name}:1/org/lib.git" if ":" not in host else f"https://{name}/org/lib.git",
    ]


def expand(text: str, env: dict[str, str]) -> str:
    """A script's word with the step's variables filled in (`${HOST%%:*}` too); any other variable
    becomes `<NAME>`, a value the script computes."""

    def value(match: re.Match[str]) -> str:
        name, cut = match[1] or match[3], match[2]
        if name not in env:
            return f"<{name}>"
        return env[name].split(":")[0] if cut == "%%:*" else env[name]

    return re.sub(r"\$\{(\w+)(%%:\*)?\}|\$(\w+)", value, text)


def script_git_configs(text: str, env: dict[str, str]) -> list[dict[str, str]]:
    """The GIT_CONFIG_COUNT/KEY/VALUE sets a script exports, each COUNT starting a new one."""
    configs: list[dict[str, str]] = []
    for line in re.findall(r"^\s*export\s+(.*GIT_CONFIG_.*)$", text, re.M):
        for word in shlex.split(line, comments=True):
            name, _, written = word.partition("=")
            if name == "GIT_CONFIG_COUNT":
                configs.append({})
            if name.startswith("GIT_CONFIG_") and name not in ("GIT_CONFIG_SYSTEM", "GIT_CONFIG_GLOBAL") and configs:
                configs[-1][name] = expand(written, env)
    return [git_config_of(config) for config in configs]


@pytest.mark.parametrize("name", OPTION_SETS)
def test_git_offers_the_credential_and_rewrites_urls_for_the_configured_host_only(
    rendered: dict[str, Project], name: str, tmp_path: Path
) -> None:
    host = answers_for(OPTION_SETS[name])["github_host"]
    configs = {}
    for event in (PUSH_TO_DEFAULT, EVENTS["schedule"]):
        for run in project_runs(rendered[name], name, event):
            for step in run.steps():
                found = [git_config_of(step.env)]
                # The fetch script's: its credential helper, SSH mode's URL rewriting.
                found += [
                    config
                    for text in scripts_run(step, rendered[name].path).values()
                    for config in script_git_configs(text, step.env)
                ]
                for config in found:
                    if config["GIT_CONFIG_COUNT"] != "0":
                        configs[json.dumps(config, sort_keys=True)] = where(run, step)
    if not configs:
        pytest.skip("no step gives git configuration")
    own = f"https://{host}/org/lib.git"
    for text, place in configs.items():
        config = json.loads(text)
        helpers = [
            value
            for key, value in config.items()
            if key.startswith("GIT_CONFIG_KEY") and value.startswith("credential")
        ]
        for url in probes(host):
            assert git(config, tmp_path, "config", "--get-urlmatch", "credential.helper", url) == "", f"{place}: {url}"
            assert git(config, tmp_path, "ls-remote", "--get-url", url) == url, f"{place} rewrites {url}"
        if helpers:
            assert git(config, tmp_path, "config", "--get-urlmatch", "credential.helper", own), place


SHELL_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
WEAK_HOST_KEY_CHECK = re.compile(r"StrictHostKeyChecking=(?!yes\b)", re.I)


def shell_paths(text: str) -> str:
    """Shell variables in a path as the runner would fill them: RUNNER_TEMP's value, /run/NAME
    for a variable the script sets itself."""
    return SHELL_VARIABLE.sub(
        lambda m: RUNNER_TEMP if (m[1] or m[2]) == "RUNNER_TEMP" else f"/run/{m[1] or m[2]}", text
    )


def arrays(text: str) -> dict[str, str]:
    """A script's arrays (`name=(words...)`), each as the words `${name[*]}` gives."""
    return {
        name: " ".join(shlex.quote(word) for word in shlex.split(words, comments=True))
        for name, words in re.findall(r"^\s*(\w+)=\(([^)]*)\)", text, re.M)
    }


def ssh_commands(step: PlannedStep, text: str) -> list[str]:
    """The ssh command lines a step gives git: its env's GIT_SSH_COMMAND, or one its script (or a
    script of the project it runs: `text`) sets, arrays expanded."""
    found = [step.env["GIT_SSH_COMMAND"]] if "GIT_SSH_COMMAND" in step.env else []
    found += [quoted[1:-1] for quoted in re.findall(r"GIT_SSH_COMMAND=(\"[^\"]*\"|'[^']*')", text)]
    words = arrays(text)
    found = [re.sub(r"\$\{(\w+)\[[*@]\]\}", lambda m: words.get(m[1], m[0]), command) for command in found]
    return [shell_paths(command) for command in found]


def agent_sockets(text: str) -> list[str]:
    """Where the script's ssh-agent listens (`-a PATH`), as the runner would fill the path; [] when
    that path is not in a directory the script just made with `mktemp -d` (a path known in advance
    lets code that ran earlier listen there first)."""
    fresh = {name for name in re.findall(r'^\s*(\w+)="?\$\(mktemp -d\)"?\s*$', text, re.M)}
    found = []
    for socket in re.findall(r"\bssh-agent\b[^\n]*\s-a\s+\"?([^\"\s]+)", text):
        directory = re.fullmatch(r"\$\{(\w+)\}/[\w.-]+", socket)
        if directory and directory[1] in fresh:
            found.append(shell_paths(socket))
    return found


@pytest.mark.parametrize("name", [n for n in OPTION_SETS if answers_for(OPTION_SETS[n])["git_auth"] == "ssh"])
def test_ssh_accepts_only_the_host_keys_of_the_ssh_known_hosts_variable(
    rendered: dict[str, Project], name: str, tmp_path: Path
) -> None:
    ssh = require_tool("ssh")
    host_name = answers_for(OPTION_SETS[name])["github_host"].partition(":")[0]
    steps = [step for run in project_runs(rendered[name], name, PUSH_TO_DEFAULT) for step in run.steps()]
    texts = {id(step): step_text(step, rendered[name].path) for step in steps}
    assert any(ssh_commands(step, texts[id(step)]) for step in steps), "no step gives git an ssh command"
    for step in steps:
        text = texts[id(step)]
        assert not WEAK_HOST_KEY_CHECK.search(text), f"{step.name}: {WEAK_HOST_KEY_CHECK.search(text)}"
        assert "ssh-keyscan" not in text, f"{step.name} trusts whatever key the host shows"
        for line in ssh_commands(step, text):
            command = shlex.split(line)
            assert command[0] == "ssh", line
            # No ssh configuration of the machine's or the user's (a ProxyCommand an earlier step
            # wrote into ~/.ssh/config would see the key): only what the step says.
            assert command[1:3] == ["-F", "/dev/null"], f"{step.name}: ssh reads a config file: {line}"
            options = command[1:]
            effective = subprocess.run(
                [ssh, "-G", *options, f"git@{host_name}"],
                capture_output=True,
                text=True,
                env=tool_env(tmp_path),
                timeout=30,
            )
            settings = dict(row.split(" ", 1) for row in effective.stdout.splitlines() if " " in row)
            assert settings.get("stricthostkeychecking") == "true", (step.name, settings.get("stricthostkeychecking"))
            known_hosts = settings.get("userknownhostsfile", "")
            assert known_hosts and " " not in known_hosts and known_hosts != "/dev/null", known_hosts
            assert step.env.get("SSH_KNOWN_HOSTS") == "<var SSH_KNOWN_HOSTS>", "known hosts not from the variable"
            # The step writes the variable's lines, and only them, into that file.
            written = re.findall(r'"\$\{SSH_KNOWN_HOSTS\}"\s*>\s*"?([^"\s;]+)', text)
            assert [shell_paths(path) for path in written] == [known_hosts], (written, known_hosts)
            # Only the key of the agent this step started, in a directory made for it, is offered.
            sockets = agent_sockets(text)
            assert len(sockets) == 1, f"{step.name}: the agent's socket is not in a fresh mktemp -d directory"
            assert settings.get("identityagent") == sockets[0], (settings.get("identityagent"), sockets)
            assert settings.get("identitiesonly") == "yes", settings.get("identitiesonly")


# --- the bots and Poetry ---------------------------------------------------------------------


def days(age: str) -> float:
    number, unit = re.fullmatch(r"(\d+)\s*(day|days|d|hour|hours|h)", age.strip()).groups()  # type: ignore[union-attr]
    return int(number) / (24 if unit.startswith("h") else 1)


@pytest.mark.parametrize("name", OPTION_SETS)
def test_the_update_bots_wait_a_few_days_before_taking_a_release(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name]
    config = project.yaml(".github/dependabot.yml")
    for update in config["updates"]:
        assert update.get("cooldown", {}).get("default-days", 0) >= 3, update["package-ecosystem"]
    if project.has_file("renovate.json"):
        renovate = project.json("renovate.json")
        waits = [
            days(rule["minimumReleaseAge"])
            for rule in renovate.get("packageRules", [])
            if "pypi" in rule.get("matchDatasources", []) and rule.get("enabled", True) and "minimumReleaseAge" in rule
        ]
        assert waits and min(waits) >= 3, waits


def test_poetry_reads_the_settings_ci_and_the_readme_rely_on(rendered: dict[str, Project], tmp_path: Path) -> None:
    """Read by Poetry itself, with no user configuration: system git (the credential helpers and
    SSH setup the README gives git) and the virtualenv in .venv, the path CI caches."""
    project = rendered["defaults"]
    result = subprocess.run(
        [str(BIN / "poetry"), "config", "--list"],
        cwd=project.path,
        env=tool_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    settings = dict(line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
    assert settings["system-git-client"] == "true"
    assert settings["virtualenvs.in-project"] == "true"
    cached = {
        step.inputs["path"]
        for action in local_actions(project)
        for step in plan_action(project.path, action, PUSH_TO_DEFAULT)
        if step.uses.startswith("actions/cache/restore@")
    }
    assert ".venv" in cached


# --- the planner can fail -------------------------------------------------------------------------


def test_a_condition_written_another_way_is_still_evaluated_for_every_event() -> None:
    """The check the static test cannot make: this save condition names a push and the default
    branch, yet saves on pull requests too."""
    planted = (
        "steps.venv.outputs.cache-hit != 'true' && (github.event_name == 'push' || github.event_name == "
        "'pull_request') && github.event.repository.default_branch != ''"
    )
    for event in EVENTS.values():
        context = {"github": event.github(), "steps": {}}
        may = True in outcomes(planted, context, {"success": True, "failure": False})
        assert may == (event.event_name in ("push", "pull_request")), event.label


ACTION = ".github/actions/setup-project/action.yml"
FETCH_SCRIPT = "scripts/fetch_private_sources.sh"
SSH_AGENT = "scripts/ssh_agent.sh"
LINT_STEP = "      - name: Lint\n"
GATE_STEP = "      - name: Wait for CI to pass on the tagged commit\n"
PLANTED: dict[str, tuple[str, str, str, str, Callable[..., None]]] = {
    # name: (option set, file, text, replaced by, the check that must fail)
    "cache saved unless a pull request": (
        "defaults",
        ACTION,
        "github.event_name == 'push' && github.ref_type",
        "github.event_name != 'pull_request' && github.ref_type",
        test_caches_are_saved_only_by_pushes_to_the_default_branch,
    ),
    "a credential helper for every host": (
        "defaults",
        FETCH_SCRIPT,
        'GIT_CONFIG_KEY_1="credential.https://${GIT_HOST}.helper"',
        'GIT_CONFIG_KEY_1="credential.helper"',
        test_git_offers_the_credential_and_rewrites_urls_for_the_configured_host_only,
    ),
    "a new ssh host key accepted": (
        "ssh",
        SSH_AGENT,
        "StrictHostKeyChecking=yes",
        "StrictHostKeyChecking=accept-new",
        test_ssh_accepts_only_the_host_keys_of_the_ssh_known_hosts_variable,
    ),
    "ssh reads the user's config": (
        "ssh",
        SSH_AGENT,
        "options=(-F /dev/null -o",
        "options=(-o",
        test_ssh_accepts_only_the_host_keys_of_the_ssh_known_hosts_variable,
    ),
    "the agent's socket at a known path": (
        "ghes-ssh",
        SSH_AGENT,
        'agent_dir="$(mktemp -d)"',
        'agent_dir="${RUNNER_TEMP}"',
        test_ssh_accepts_only_the_host_keys_of_the_ssh_known_hosts_variable,
    ),
    "the check script with site-packages": (
        "defaults",
        FETCH_SCRIPT,
        'check=("${PYTHON}" -I -S ',
        'check=("${PYTHON}" ',
        test_the_org_credential_never_reaches_a_step_that_runs_third_party_code,
    ),
    "the credential step reads BASH_ENV": (
        "github-app",
        ".github/workflows/ci.yml",
        "shell: /bin/bash --noprofile --norc -p -e {0}",
        "shell: bash",
        test_a_step_with_the_org_credential_reads_nothing_an_earlier_step_could_write,
    ),
    "the token in a lint step that runs no package": (
        "defaults",
        ".github/workflows/ci.yml",
        LINT_STEP,
        "      - name: Note\n        env:\n          TOKEN: ${{ secrets.POETRY_GIT_TOKEN }}\n"
        "        run: git --version\n" + LINT_STEP,
        test_the_org_credential_is_held_by_one_job_that_runs_no_third_party_code,
    ),
    "the hand-off keyed by the run": (
        "defaults",
        ".github/workflows/ci.yml",
        "          key: ${{ steps.locked.outputs.key }}\n\n  lint:",
        "          key: private-sources-${{ github.run_id }}\n\n  lint:",
        test_caches_are_saved_only_by_pushes_to_the_default_branch,
    ),
    "the hand-off saved on pushes only": (
        "poetry-http-basic",
        ".github/workflows/ci.yml",
        "steps.sources.outputs.cache-hit != 'true'\n        uses: actions/cache/save@",
        "steps.sources.outputs.cache-hit != 'true' && github.event_name == 'push'\n        uses: actions/cache/save@",
        test_a_push_to_the_default_branch_saves_every_cache_it_restores,
    ),
    "the hand-off saved in fork-safe mode": (
        "fork-safe-ssh",
        ACTION,
        "    - name: Save the Poetry cache\n",
        "    - name: Save the fetched sources\n"
        "      uses: actions/cache/save@27d5ce7f107fe9357f9df03efb73ab90386fccae\n"
        "      with:\n        path: ${{ runner.temp }}/private-sources\n        key: private-sources\n\n"
        "    - name: Save the Poetry cache\n",
        test_caches_are_saved_only_by_pushes_to_the_default_branch,
    ),
    "the release gate skipped on tags": (
        "defaults",
        ".github/workflows/release.yml",
        GATE_STEP,
        GATE_STEP + "        if: github.ref_type == 'branch'\n",
        test_the_release_gate_runs_on_every_tag_and_nothing_runs_after_a_failed_step,
    ),
    "the App key in the fetch step": (
        "github-app",
        ".github/workflows/ci.yml",
        "PRIVATE_GIT_TOKEN: ${{ steps.app-token.outputs.token }}",
        "PRIVATE_GIT_TOKEN: ${{ steps.app-token.outputs.token }}\n          APP_KEY: ${{ secrets.APP_PRIVATE_KEY }}",
        test_the_app_key_reaches_only_the_token_action,
    ),
    "the App key outside its environment": (
        "template-updates",
        ".github/workflows/template-update.yml",
        "    environment: template-update\n",
        "",
        test_the_template_update_key_is_read_only_in_its_protected_environment,
    ),
    "secrets for a fork's pull request": (
        "defaults",
        ".github/workflows/ci.yml",
        "  pull_request:\n",
        "  pull_request_target:\n",
        test_no_step_holds_a_secret_in_a_run_a_fork_can_start,
    ),
    "the token beside pytest": (
        "defaults",
        ".github/workflows/ci.yml",
        "        run: poetry run pytest",
        "        env:\n          TOKEN: ${{ secrets.POETRY_GIT_TOKEN }}\n        run: poetry run pytest",
        test_the_org_credential_never_reaches_a_step_that_runs_third_party_code,
    ),
}


@pytest.mark.parametrize("planted", PLANTED)
def test_the_event_checks_catch_a_planted_mistake(rendered: dict[str, Project], tmp_path: Path, planted: str) -> None:
    name, relative, text, replacement, check = PLANTED[planted]
    copy = tmp_path / "project"
    shutil.copytree(rendered[name].path, copy)
    original = (copy / relative).read_text()
    assert text in original
    (copy / relative).write_text(original.replace(text, replacement))
    arguments: dict[str, Any] = {"rendered": {name: Project(copy, "cookiecutter")}, "name": name}
    if "tmp_path" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        arguments["tmp_path"] = tmp_path
    with pytest.raises(AssertionError) as caught:
        check(**arguments)
    assert not isinstance(caught.value, ExpressionError), caught.value  # the check failed, not the planner

"""The rendered workflows behave as intended when GitHub runs them, for github.com, an Enterprise
Server host, and one with a port.

- ci.yml's concurrency: its group and cancel-in-progress are evaluated with GitHub's expression
  semantics (tests/support/expressions.py) for pull requests, pushes to main and manual runs; a
  pull request's new push cancels the run it supersedes, a push to main never is cancelled.
- runs-on: every job of every workflow evaluates to the runner_labels answer, or to the org
  variable CI_RUNNER_LABELS when it is set.
- release.yml's gate: the rendered step (scripts/release_gate.sh) runs under GitHub's bash
  invocation with its env resolved as the runner resolves it, and the real GitHub CLI asks a
  stub of the Enterprise Server REST API (tests/support/github_api.py, TLS on 127.0.0.1:PORT)
  whether the tagged commit is on the default branch and for CI's push run on it there; passed,
  failed, missing, still running, running-then-passing, a tag that arrives before its commit
  reaches the default branch, and a side branch whose CI passed (refused).
- release.yml's jobs: only `publish` may write, and it runs gh alone; `build` runs Poetry with
  read permissions only, after the gate.
- release.yml's `gh release create` step makes the release and uploads both built files through
  the same stub; without GH_REPO gh cannot match the remote (gh drops its port) to GH_HOST.

Planted faults show the checks can fail: the concurrency groups ci.yml must not have (its old
one among them), a job with labels of its own, the token under GH_TOKEN on a server, no GH_REPO.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import OPTION_SETS, Project, answers_for, render, require_tool
from support.expressions import as_text, value
from support.expressions import render as render_text
from support.github_api import GitHubApi
from support.gitserver import git_env, new_token
from support.workflow_steps import BASH

# One option set per kind of host.
HOSTS = {"github.com": "defaults", "Enterprise Server": "ghes-app-dependabot", "with a port": "ghes-port"}
GITHUB_COM_LABELS = ["ubuntu-24.04"]
SELF_HOSTED_LABELS = ["self-hosted", "linux", "x64"]
CUSTOM_LABELS = {"runner_labels": " gpu-box , linux,arm64 ", "template_update_workflow": True}
ORG_LABELS = ["self-hosted", "org-pool"]

REPOSITORY = "acme/project"
SHA = "5e1f7a0c2b9d4e6f8a1b3c5d7e9f0a2b4c6d8e0f"
TAG = "v1.0.0"
GATE_STEP = "Wait for CI to pass on the tagged commit"
PUBLISH_STEP = "Publish the GitHub release"
CI_RUNS_PATH = f"/api/v3/repos/{REPOSITORY}/actions/workflows/ci.yml/runs"
COMPARE_PATH = f"/api/v3/repos/{REPOSITORY}/compare/main...{SHA}"
STEP_TIMEOUT = 120  # seconds; the gate's own limit in these tests is at most one minute
BUILT_FILES = {"project-1.0.0.tar.gz": b"sdist bytes\n", "project-1.0.0-py3-none-any.whl": b"wheel bytes\n"}


# --- ci.yml's concurrency ----------------------------------------------------------------


def pull_request(number: int, run_id: str) -> dict[str, Any]:
    return {
        "workflow": "CI",
        "event_name": "pull_request",
        "ref": f"refs/pull/{number}/merge",
        "run_id": run_id,
        "event": {"pull_request": {"number": number}},
    }


def push_to_main(run_id: str) -> dict[str, Any]:
    return {"workflow": "CI", "event_name": "push", "ref": "refs/heads/main", "run_id": run_id, "event": {}}


def manual_run(run_id: str) -> dict[str, Any]:
    return {**push_to_main(run_id), "event_name": "workflow_dispatch"}


def concurrency_of(concurrency: dict[str, Any], github: dict[str, Any]) -> tuple[str, Any]:
    """(group, cancel-in-progress) of a run with this github context."""
    context = {"github": github}
    return value(concurrency["group"], context), value(concurrency.get("cancel-in-progress", False), context)


@pytest.fixture(params=list(HOSTS.values()), ids=list(HOSTS))
def ci_concurrency(request: pytest.FixtureRequest, rendered: dict[str, Project]) -> dict[str, Any]:
    return rendered[request.param].yaml(".github/workflows/ci.yml")["concurrency"]


def test_a_new_push_to_a_pull_request_cancels_the_run_it_supersedes(ci_concurrency: dict[str, Any]) -> None:
    first_group, _ = concurrency_of(ci_concurrency, pull_request(7, "9001"))
    second_group, cancel = concurrency_of(ci_concurrency, pull_request(7, "9002"))
    assert first_group == second_group
    assert cancel is True


def test_different_pull_requests_never_cancel_each_other(ci_concurrency: dict[str, Any]) -> None:
    groups = {concurrency_of(ci_concurrency, pull_request(number, f"900{number}"))[0] for number in (7, 8)}
    assert len(groups) == 2
    assert concurrency_of(ci_concurrency, push_to_main("9009"))[0] not in groups


def test_every_push_to_main_runs_to_the_end(ci_concurrency: dict[str, Any]) -> None:
    (first_group, first_cancel), (second_group, second_cancel) = (
        concurrency_of(ci_concurrency, push_to_main(run_id)) for run_id in ("9001", "9002")
    )
    # Runs of one group wait for each other and GitHub cancels a pending one: each push has its own.
    assert first_group != second_group
    assert first_cancel is False and second_cancel is False


def test_a_manual_run_is_a_group_of_its_own_and_never_cancelled(ci_concurrency: dict[str, Any]) -> None:
    manual_group, cancel = concurrency_of(ci_concurrency, manual_run("9003"))
    others = {concurrency_of(ci_concurrency, github)[0] for github in (push_to_main("9001"), manual_run("9002"))}
    assert manual_group not in others
    assert cancel is False


CONCURRENCY_TESTS = (
    test_a_new_push_to_a_pull_request_cancels_the_run_it_supersedes,
    test_different_pull_requests_never_cancel_each_other,
    test_every_push_to_main_runs_to_the_end,
    test_a_manual_run_is_a_group_of_its_own_and_never_cancelled,
)
CANCEL_ON_PULL_REQUESTS = "${{ github.event_name == 'pull_request' }}"


@pytest.mark.parametrize(
    ("group", "caught_by"),
    [
        # The group ci.yml had before: a push to main queued behind (or cancelled by) the next one.
        (
            "${{ github.workflow }}-${{ github.ref }}",
            {"test_every_push_to_main_runs_to_the_end", "test_a_manual_run_is_a_group_of_its_own_and_never_cancelled"},
        ),
        (
            "${{ github.workflow }}-${{ github.run_id }}",
            {"test_a_new_push_to_a_pull_request_cancels_the_run_it_supersedes"},
        ),
        (
            "${{ github.workflow }}-${{ github.event_name }}",
            {
                "test_different_pull_requests_never_cancel_each_other",
                "test_every_push_to_main_runs_to_the_end",
                "test_a_manual_run_is_a_group_of_its_own_and_never_cancelled",
            },
        ),
    ],
    ids=["old-group-by-ref", "group-by-run-only", "group-by-event"],
)
def test_the_concurrency_tests_catch_a_planted_group(group: str, caught_by: set[str]) -> None:
    planted = {"group": group, "cancel-in-progress": CANCEL_ON_PULL_REQUESTS}
    failed = set()
    for check in CONCURRENCY_TESTS:
        try:
            check(planted)
        except AssertionError:
            failed.add(check.__name__)
    assert failed == caught_by


# --- runs-on -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def projects(rendered: dict[str, Project], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    """Every option set, and a project whose runner_labels answer is its own."""
    custom = render("cookiecutter", tmp_path_factory.mktemp("custom-labels"), CUSTOM_LABELS)
    return {**rendered, "custom-labels": custom}


def expected_labels(name: str) -> list[str]:
    if name == "custom-labels":
        return ["gpu-box", "linux", "arm64"]
    return (
        GITHUB_COM_LABELS if OPTION_SETS[name].get("github_host", "github.com") == "github.com" else SELF_HOSTED_LABELS
    )


def jobs_runs_on(project: Project) -> dict[str, Any]:
    """`runs-on` of every job of every workflow, by "workflow file: job"."""
    found = {}
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        for job, spec in project.yaml(f".github/workflows/{path.name}")["jobs"].items():
            found[f"{path.name}: {job}"] = spec["runs-on"]
    return found


def labels_of(rule: Any, variables: dict[str, str]) -> list[str]:
    """The labels a `runs-on` value asks for: one label as a string, or a list."""
    labels = value(rule, {"vars": variables})
    return [labels] if isinstance(labels, str) else labels


def runs_on_problems(runs_on: dict[str, Any], labels: list[str]) -> list[str]:
    """Jobs that do not run on `labels` by default, or on the org's labels when the org sets them."""
    problems = []
    if len({str(rule) for rule in runs_on.values()}) != 1:
        problems.append(f"the jobs use different rules: {sorted({str(rule) for rule in runs_on.values()})}")
    for job, rule in runs_on.items():
        # An unset variable reads as an empty string on GitHub; a missing property as null here.
        for variables in ({}, {"CI_RUNNER_LABELS": ""}):
            if (got := labels_of(rule, variables)) != labels:
                problems.append(f"{job} runs on {got} without the org variable, not {labels}")
        org = {"CI_RUNNER_LABELS": '["self-hosted", "org-pool"]'}
        if (got := labels_of(rule, org)) != ORG_LABELS:
            problems.append(f"{job} runs on {got} with CI_RUNNER_LABELS set, not {ORG_LABELS}")
    return problems


@pytest.mark.parametrize("name", [*OPTION_SETS, "custom-labels"])
def test_every_job_runs_on_the_answered_labels_unless_the_org_variable_names_others(
    projects: dict[str, Project], name: str
) -> None:
    runs_on = jobs_runs_on(projects[name])
    overrides = CUSTOM_LABELS if name == "custom-labels" else OPTION_SETS[name]
    answers = answers_for(overrides)
    shipped = {"ci.yml": True, "release.yml": answers["release_workflow"]}
    shipped["template-update.yml"] = answers["template_update_workflow"]
    workflows = {workflow for workflow, ships in shipped.items() if ships}
    assert {job.split(":")[0] for job in runs_on} == workflows  # each workflow the answers ship is evaluated
    assert runs_on_problems(runs_on, expected_labels(name)) == []


def test_the_runs_on_check_catches_a_job_with_its_own_labels(rendered: dict[str, Project]) -> None:
    runs_on = jobs_runs_on(rendered["template-updates"])
    planted = {**runs_on, "release.yml: release": "ubuntu-24.04"}
    assert runs_on_problems(planted, GITHUB_COM_LABELS) == [
        f"the jobs use different rules: {sorted({str(rule) for rule in planted.values()})}",
        f"release.yml: release runs on ['ubuntu-24.04'] with CI_RUNNER_LABELS set, not {ORG_LABELS}",
    ]


# --- the environment gh gets ----------------------------------------------------------------

GH_COMMAND = re.compile(r"(?:^|[\s;|&(])gh\s", re.M)


# What tells gh which host, token and repository to use.
GH_SELECTION = {"GH_HOST", "GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_REPO"}


def runs_text(project: Project, script: str) -> str:
    """A run: block and the text of every shell script of the tree it runs with bash."""
    scripts = re.findall(r"\bbash (scripts/[\w.-]+\.sh)\b", script)
    return "\n".join([script, *(project.read(name) for name in scripts)])


def gh_steps(project: Project) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Every step that runs gh (itself or in a script of the tree), by "workflow file: step
    name", with the ids of its job's steps."""
    found = {}
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        for spec in project.yaml(f".github/workflows/{path.name}")["jobs"].values():
            ids = [step["id"] for step in spec["steps"] if "id" in step]
            for step in spec["steps"]:
                if GH_COMMAND.search(runs_text(project, step.get("run", ""))):
                    found[f"{path.name}: {step['name']}"] = (step, ids)
    return found


def step_env(step: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
    """The step's `env:` as the runner resolves it."""
    return {
        name: render_text(text, context) if isinstance(text, str) else as_text(text)
        for name, text in (step.get("env") or {}).items()
    }


@pytest.mark.parametrize("name", [*HOSTS.values(), "template-updates"])
def test_every_gh_step_names_the_host_token_and_repository_gh_reads(rendered: dict[str, Project], name: str) -> None:
    """gh reads GH_TOKEN for github.com only, GH_HOST + GH_ENTERPRISE_TOKEN for a server; GH_REPO
    names the repository. (The tests cannot reach github.com: for it, this is the whole check.)"""
    host = OPTION_SETS[name].get("github_host", "github.com")
    answers = answers_for(OPTION_SETS[name])
    expected = {f"release.yml: {GATE_STEP}", f"release.yml: {PUBLISH_STEP}"} if answers["release_workflow"] else set()
    token = new_token()
    steps = gh_steps(rendered[name])
    assert set(steps) == expected
    for where, (step, ids) in steps.items():
        # The job's token, or the one a step of the job minted: either is `token` here.
        outputs = {"token": token, "app-slug": "acme-bot", "version": "v2.0.0"}
        context = {
            "github": {
                "token": token,
                "repository": REPOSITORY,
                "server_url": f"https://{host}",
                "event": {"repository": {"default_branch": "main"}},
            },
            "runner": {"temp": "/home/runner/work/_temp", "os": "Linux"},
            "steps": {step_id: {"outputs": outputs} for step_id in ids},
        }
        env = step_env(step, context)
        gh = {key: env[key] for key in env if key in GH_SELECTION}
        if host == "github.com":
            assert gh == {"GH_TOKEN": token, "GH_REPO": REPOSITORY}, where
        else:
            assert gh == {"GH_HOST": host, "GH_ENTERPRISE_TOKEN": token, "GH_REPO": REPOSITORY}, where


# --- release.yml, run for real against the REST API stub ----------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubApi]:
    require_tool("gh")
    with GitHubApi(tmp_path_factory.mktemp("github-api"), REPOSITORY, new_token()) as server:
        yield server


@pytest.fixture(scope="module")
def release_project(api: GitHubApi, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project rendered for an Enterprise Server at the stub's host and port."""
    overrides = {**OPTION_SETS["ghes-port"], "github_host": api.host, "github_org": "acme"}
    return render("cookiecutter", tmp_path_factory.mktemp("release"), overrides)


@pytest.fixture(scope="module")
def release_job(release_project: Project) -> dict[str, Any]:
    """release.yml's jobs' steps in order, and the project they come from."""
    document = release_project.yaml(".github/workflows/release.yml")
    # Steps have no `shell:` of their own: the workflow's default says how the runner calls them.
    assert document["defaults"]["run"]["shell"] == "bash"
    steps = [step for job in document["jobs"].values() for step in job["steps"]]
    return {"steps": steps, "project": release_project}


def test_only_the_publish_job_writes_and_it_runs_no_build_tool(release_project: Project) -> None:
    jobs = release_project.yaml(".github/workflows/release.yml")["jobs"]
    assert list(jobs) == ["gate", "build", "publish"]
    assert jobs["build"]["needs"] == "gate" and jobs["publish"]["needs"] == "build"
    writers = {name for name, job in jobs.items() if "write" in job["permissions"].values()}
    assert writers == {"publish"} and jobs["publish"]["permissions"] == {"contents": "write"}
    publish = jobs["publish"]["steps"]
    assert [step["uses"].split("@")[0] for step in publish if "uses" in step] == ["actions/download-artifact"]
    assert [step["run"].split()[0] for step in publish if "run" in step] == ["gh"]
    assert any("poetry build" in step.get("run", "") for step in jobs["build"]["steps"])


@pytest.fixture
def stub(api: GitHubApi) -> GitHubApi:
    """The module's stub with no runs, tags, releases or requests left from another test."""
    api.ci_sha, api.ci_runs, api.tags, api.ci_branch, api.compare = SHA, [None], set(), "main", ["behind"]
    api.releases.clear()
    api.take_requests()
    return api


def tag_push(api: GitHubApi) -> dict[str, Any]:
    """The github context of the push of TAG to the stub's host."""
    return {
        "event": {"repository": {"default_branch": "main"}},
        "event_name": "push",
        "workflow": "Release",
        "ref": f"refs/tags/{TAG}",
        "ref_name": TAG,
        "ref_type": "tag",
        "sha": SHA,
        "repository": REPOSITORY,
        "repository_owner": REPOSITORY.split("/")[0],
        "server_url": f"https://{api.host}",
        "api_url": f"https://{api.host}/api/v3",
        "run_id": "9100",
        "token": api.token,
    }


def step_named(job: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [step for step in job["steps"] if step.get("name") == name]
    return step


def runner_env(github: dict[str, Any], root: Path, workspace: Path, api: GitHubApi) -> dict[str, str]:
    """What the runner gives every step: its default variables, a HOME of its own and no token."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": github["event_name"],
        "GITHUB_WORKFLOW": github["workflow"],
        "GITHUB_REF": github["ref"],
        "GITHUB_REF_NAME": github["ref_name"],
        "GITHUB_REF_TYPE": github["ref_type"],
        "GITHUB_SHA": github["sha"],
        "GITHUB_REPOSITORY": github["repository"],
        "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
        "GITHUB_SERVER_URL": github["server_url"],
        "GITHUB_API_URL": github["api_url"],
        "GITHUB_RUN_ID": github["run_id"],
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(root),
        **api.env(),  # the runner's trust store, which holds the server's CA
    }


def run_step(step: dict[str, Any], env: dict[str, str], cwd: Path, github: dict[str, Any], root: Path) -> str:
    """Run a `run:` step as GitHub does: "exit N", then its output."""
    script = root / "step.sh"
    script.write_text(render_text(step["run"], {"github": github}))
    # A session of its own, so a timeout ends gh too, not only bash (gh would hold the pipes open).
    process = subprocess.Popen(
        [*BASH, str(script)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"the step ran over {STEP_TIMEOUT} s:\n{output}") from None
    finally:
        script.unlink()
    return f"exit {process.returncode}\n{output}"


def wait_for_ci(
    job: dict[str, Any], api: GitHubApi, root: Path, wait_minutes: int = 0, **env_changes: str | None
) -> tuple[str, list[Any]]:
    """Run the gate step with a short limit and poll; (its exit line and output, the requests).

    The limit is whole minutes. At 0 the first answer decides: a completed run is read before the
    limit is, so a pass or a failure still shows, and a missing or running one is the limit's."""
    github = tag_push(api)
    step = step_named(job, GATE_STEP)
    resolved = step_env(step, {"github": github})
    assert resolved == {
        "GH_HOST": api.host,
        "GH_ENTERPRISE_TOKEN": api.token,
        "GH_REPO": REPOSITORY,
        "DEFAULT_BRANCH": "main",
        "WAIT_MINUTES": "30",
        "POLL_SECONDS": "20",
    }
    # The step runs the tree's script from the checkout.
    (root / "scripts").mkdir(exist_ok=True)
    shutil.copy(job["project"] / "scripts" / "release_gate.sh", root / "scripts")
    env = {**runner_env(github, root, root, api), **resolved}
    env.update(WAIT_MINUTES=str(wait_minutes), POLL_SECONDS="0.2")  # the runner's sleep takes fractions
    for name, changed in env_changes.items():
        if changed is None:
            env.pop(name)
        else:
            env[name] = changed
    output = run_step(step, env, root, github, root)
    return output, api.take_requests()


def assert_asked_for_ci_runs(requests: list[Any], api: GitHubApi, count: int, compares: int | None = None) -> None:
    """`count` requests for CI's push runs on the tagged commit to main, each after asking whether
    the commit is on main (`compares` times in all: `count` unless said), with the token, at
    host:port."""
    runs = [request for request in requests if request.path == CI_RUNS_PATH]
    asked = [request for request in requests if request.path != CI_RUNS_PATH]
    assert len(runs) == count and len(asked) == (count if compares is None else compares), requests
    for request in runs:
        assert request.method == "GET"
        assert request.query == {"head_sha": SHA, "branch": "main", "event": "push", "per_page": "1"}
    for request in asked:
        assert (request.method, request.path) == ("GET", COMPARE_PATH)
    for request in requests:
        assert request.token == api.token
        assert request.host == api.host  # GH_HOST with its port, as given


def assert_token_left_nowhere(root: Path, token: str) -> None:
    written = [path for path in root.rglob("*") if path.is_file() and token.encode() in path.read_bytes()]
    assert written == []


RUN_URL = "/acme/project/actions/runs/4242"


def test_the_release_goes_on_when_ci_passed_on_the_tagged_commit(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    stub.ci_runs = ["success"]
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 0\n"), output
    assert f"CI passed on {SHA} on main: https://{stub.host}{RUN_URL}" in output
    assert_asked_for_ci_runs(requests, stub, 1)
    assert_token_left_nowhere(tmp_path, stub.token)


def test_the_release_stops_when_ci_failed_on_the_tagged_commit(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    stub.ci_runs = ["failure"]
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 1\n"), output
    assert (
        f"::error title=CI did not pass::CI ended failure on the tagged commit {SHA} (https://{stub.host}{RUN_URL})"
    ) in output
    assert_asked_for_ci_runs(requests, stub, 1)


def test_the_release_stops_at_the_limit_when_no_ci_run_exists_for_the_tagged_commit(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    # The first look is the last at a limit of 0; a run that appears before the limit is waited
    # for, as the polling test below shows.
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 1\n"), output
    assert f"::error title=No CI run::no CI run for a push of {SHA} to main: push the commit to main" in output
    assert_asked_for_ci_runs(requests, stub, 1)


def test_the_release_stops_when_ci_is_still_running_at_the_limit(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    stub.ci_runs = ["in_progress"]
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 1\n"), output
    assert (
        f"::error title=CI still running::CI is still in_progress on {SHA} after 0 minutes (https://{stub.host}{RUN_URL})"
    ) in output
    assert_asked_for_ci_runs(requests, stub, 1)


def test_the_release_waits_for_ci_to_start_and_finish_then_goes_on(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    stub.ci_runs = [None, "queued", "in_progress", "success"]
    output, requests = wait_for_ci(release_job, stub, tmp_path, wait_minutes=1)
    assert output.startswith("exit 0\n"), output
    waits = re.findall(rf"^CI on {SHA}: (\S+); waiting$", output, re.M)
    assert waits == ["missing", "queued", "in_progress"]
    assert f"CI passed on {SHA}" in output
    assert_asked_for_ci_runs(requests, stub, 4)


def test_the_release_waits_for_a_tag_that_arrives_before_its_commit_reaches_the_default_branch(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    stub.compare, stub.ci_runs = ["ahead", "ahead", "behind"], [None, "success"]
    output, requests = wait_for_ci(release_job, stub, tmp_path, wait_minutes=1)
    assert output.startswith("exit 0\n"), output
    waits = re.findall(rf"^CI on {SHA}: (\S+); waiting$", output, re.M)
    assert waits == ["not-on-main", "not-on-main", "missing"]
    assert_asked_for_ci_runs(requests, stub, 2, compares=4)


def test_a_tag_on_a_side_branch_whose_ci_passed_is_not_released(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    """The commit is not in main's history, and CI's passing run was a push to another branch."""
    stub.compare, stub.ci_runs, stub.ci_branch = ["diverged"], ["success"], "side"
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 1\n"), output
    assert f"::error title=Not on main::the tagged commit {SHA} is not on main" in output
    assert_asked_for_ci_runs(requests, stub, 0, compares=1)
    # Even were it on main, a run on the side branch is not CI on main.
    stub.compare = ["behind"]
    output, requests = wait_for_ci(release_job, stub, tmp_path)
    assert output.startswith("exit 1\n") and "::error title=No CI run::" in output, output


def test_the_release_stops_at_once_when_the_api_refuses_the_token(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    """An API error is not read as "no run yet": the step fails on the first answer."""
    stub.ci_runs = ["success"]
    output, requests = wait_for_ci(release_job, stub, tmp_path, GH_ENTERPRISE_TOKEN=new_token())
    assert output.startswith("exit 1\n"), output
    assert "Bad credentials (HTTP 401)" in output
    assert "waiting" not in output
    assert len(requests) == 1


def test_the_token_under_gh_token_would_not_reach_an_enterprise_server(
    release_job: dict[str, Any], stub: GitHubApi, tmp_path: Path
) -> None:
    """Why gh_env names GH_ENTERPRISE_TOKEN off github.com: gh sends GH_TOKEN to github.com only."""
    stub.ci_runs = ["success"]
    output, requests = wait_for_ci(release_job, stub, tmp_path, GH_ENTERPRISE_TOKEN=None, GH_TOKEN=stub.token)
    assert output.startswith("exit 1\n"), output
    assert [request.token for request in requests] == [None]


# --- gh release create, with the port ------------------------------------------------------


@pytest.fixture
def checkout(stub: GitHubApi, tmp_path: Path) -> Path:
    """The tagged commit checked out, its origin the server with its port, and the built files."""
    work = tmp_path / "work"
    work.mkdir()
    env = git_env()

    def git(*arguments: str) -> None:
        subprocess.run(["git", *arguments], cwd=work, env=env, check=True, capture_output=True, timeout=30)

    git("init", "-q", "-b", "main")
    (work / "README.md").write_text("project\n")
    git("add", "README.md")
    git("commit", "-q", "-m", "Release")
    git("tag", TAG)
    git("remote", "add", "origin", f"https://{stub.host}/{REPOSITORY}.git")
    (work / "dist").mkdir()
    for name, data in BUILT_FILES.items():
        (work / "dist" / name).write_bytes(data)
    return work


def publish(job: dict[str, Any], api: GitHubApi, checkout: Path, **env_changes: str | None) -> str:
    github = tag_push(api)
    step = step_named(job, PUBLISH_STEP)
    resolved = step_env(step, {"github": github})
    assert resolved == {"GH_HOST": api.host, "GH_ENTERPRISE_TOKEN": api.token, "GH_REPO": REPOSITORY}
    env = {**runner_env(github, checkout.parent, checkout, api), **resolved}
    for name, changed in env_changes.items():
        if changed is None:
            env.pop(name)
        else:
            env[name] = changed
    return run_step(step, env, checkout, github, checkout.parent)


def test_the_release_is_published_for_the_tag_with_both_built_files(
    release_job: dict[str, Any], stub: GitHubApi, checkout: Path
) -> None:
    stub.tags = {TAG}
    output = publish(release_job, stub, checkout)
    assert output.startswith("exit 0\n"), output
    assert f"https://{stub.host}/{REPOSITORY}/releases/tag/{TAG}" in output
    [release] = stub.releases.values()
    assert (release.tag_name, release.name, release.draft, release.generated_notes) == (TAG, TAG, False, True)
    assert release.assets == BUILT_FILES
    requests = stub.take_requests()
    assert {(request.host, request.token) for request in requests} == {(stub.host, stub.token)}
    releases, uploads = f"/api/v3/repos/{REPOSITORY}/releases", f"/api/uploads/repos/{REPOSITORY}/releases/1/assets"
    assert [(request.method, request.path) for request in requests] == [
        ("POST", "/api/graphql"),  # --verify-tag: does the server have the tag?
        ("HEAD", f"{releases}/tags/{TAG}"),  # is there a release for it already?
        ("POST", releases),  # a draft, until its files are uploaded
        *[("POST", uploads)] * len(BUILT_FILES),
        ("PATCH", f"{releases}/1"),  # published
    ]
    assert requests[0].body["variables"]["tagName"] == f"refs/tags/{TAG}"
    assert_token_left_nowhere(checkout.parent, stub.token)


def test_no_release_is_made_for_a_tag_the_server_does_not_have(
    release_job: dict[str, Any], stub: GitHubApi, checkout: Path
) -> None:
    output = publish(release_job, stub, checkout)
    assert output.startswith("exit 1\n"), output
    assert f"tag {TAG} doesn't exist in the repo {REPOSITORY}, aborting due to --verify-tag flag" in output
    assert stub.releases == {}


def test_without_gh_repo_gh_cannot_match_a_remote_with_a_port_to_gh_host(
    release_job: dict[str, Any], stub: GitHubApi, checkout: Path
) -> None:
    """The regression GH_REPO fixes: gh reads the remote's host without its port."""
    stub.tags = {TAG}
    output = publish(release_job, stub, checkout, GH_REPO=None)
    assert output.startswith("exit 1\n"), output
    assert (
        "none of the git remotes configured for this repository correspond to the GH_HOST environment variable"
    ) in output
    assert stub.releases == {}
    assert stub.take_requests() == []

"""Template updates reach generated repositories without losing their own work.

A throw-away git copy of this template is tagged v0.1.0, a project is generated from it and
edited locally, then the template moves to v0.2.0 (a new question, changed and renamed files)
and the project takes the update with `copier update` or `cruft update`, the commands that
docs/updating.md and the template-update workflow run. The tools run as subprocesses: each
update loads the template's own rules module from its checkout, never the one under test here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import BIN, ROOT, TREE, render, run, tool_env
from support.template_copy import commit_all, copy_template

WORKFLOW = "{% if cookiecutter.template_update_workflow %}template-update.yml{% endif %}"
NEW_QUESTION = "coverage_minimum"
OLD_SCRIPT, NEW_SCRIPT = "scripts/check_private_deps.py", "scripts/check_access.py"
LOCAL_NOTES = "## Team notes\n\nOn call: the billing team.\n"
LOCAL_DEPENDENCY = 'requests = ">=2.32"\n'
TEMPLATE_STEP = "      - name: Run every pre-commit hook\n"


# ----------------------------------------------------------------------------- helpers


def replace_once(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(new)


def first_timeout(text: str) -> int:
    return int(re.search(r"^    timeout-minutes: (\d+)$", text, re.M).group(1))


def advance_template(template: Path, env: dict[str, str]) -> None:
    """v0.2.0: a new question with a default, changed workflow lines, a renamed file."""
    questions = template / "copier.yml"
    replace_once(
        questions,
        r"^# \[generated\]",
        f'{NEW_QUESTION}:\n  type: str\n  help: Lowest test coverage CI accepts, in percent\n  default: "100"\n'
        f"  validator: \"{{{{ '' if {NEW_QUESTION} | regex_search('^[0-9]+$') else 'a whole number' }}}}\"\n"
        "\n# [generated]",
    )
    run([str(BIN / "python"), "maintainer/write_question_files.py"], template, env)

    tree = template / TREE.name
    ci = tree / ".github" / "workflows" / "ci.yml"
    timeout = first_timeout(ci.read_text())
    replace_once(ci, rf"^    timeout-minutes: {timeout}$", f"    timeout-minutes: {timeout + 10}")
    replace_once(ci, r"^      - name: Run the pre-commit hooks\n", TEMPLATE_STEP)
    release = tree / ".github" / "workflows" / "{% if cookiecutter.release_workflow %}release.yml{% endif %}"
    replace_once(release, r"^name: Release$", "name: Release on tags")

    (tree / OLD_SCRIPT).rename(tree / NEW_SCRIPT)
    for path in [*tree.rglob("*"), *(template / "templates").glob("*.jinja")]:  # the steps the tree shares
        if path.is_file() and "check_private_deps" in path.read_text():
            path.write_text(path.read_text().replace("check_private_deps", "check_access"))

    commit_all(template, env, "v0.2.0")
    run(["git", "tag", "v0.2.0"], template, env)


def edit_locally(project: Path, env: dict[str, str]) -> int:
    """The edits a team makes; returns the timeout it wrote on the line the template also changes."""
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n" + LOCAL_NOTES)
    replace_once(
        project / "pyproject.toml",
        r"^\[tool\.poetry\.dependencies\]\n",
        "[tool.poetry.dependencies]\n" + LOCAL_DEPENDENCY,
    )
    ci = project / ".github" / "workflows" / "ci.yml"
    local_timeout = first_timeout(ci.read_text()) + 15
    replace_once(ci, r"^    timeout-minutes: \d+$", f"    timeout-minutes: {local_timeout}")
    replace_once(ci, r"^      - name: Test with coverage$", "      - name: Test with coverage, locally renamed")
    # Optional files a team chose to drop: one the template leaves alone, one it changes.
    (project / "renovate.json").unlink()
    (project / ".github" / "workflows" / "release.yml").unlink()
    commit_all(project, env, "Local edits")
    return local_timeout


def assert_local_and_template_changes_merged(project: Path) -> None:
    readme = (project / "README.md").read_text()
    assert LOCAL_NOTES in readme, "the local README text was lost"
    assert NEW_SCRIPT in readme and OLD_SCRIPT not in readme, "the template's README change was not applied"
    assert LOCAL_DEPENDENCY in (project / "pyproject.toml").read_text(), "the local dependency was lost"
    assert (project / NEW_SCRIPT).is_file() and not (project / OLD_SCRIPT).exists(), "the rename was not applied"
    fetch = (project / "scripts" / "fetch_private_sources.sh").read_text()
    assert NEW_SCRIPT in fetch and OLD_SCRIPT not in fetch
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    assert NEW_SCRIPT in ci and OLD_SCRIPT not in ci
    assert "Test with coverage, locally renamed" in ci, "a local workflow edit was lost"
    assert not (project / "renovate.json").exists(), "a file deleted on purpose came back"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    result = run(command, cwd, env, check=False)
    return result, time.perf_counter() - start


# ----------------------------------------------------------------------------- copier


def test_copier_update_keeps_local_work_and_marks_conflicts_inline(tmp_path: Path) -> None:
    env = tool_env(tmp_path / "home")
    template = copy_template(tmp_path / "template", env)
    project = tmp_path / "project"
    run([str(BIN / "copier"), "copy", "--defaults", "--quiet", str(template), str(project)], tmp_path, env)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.0"
    assert answers["_src_path"] == str(template) and Path(answers["_src_path"]).is_absolute()
    assert NEW_QUESTION not in answers
    commit_all(project, env, "Generated", init=True)
    local_timeout = edit_locally(project, env)
    advance_template(template, env)

    # The update check, with the exit codes docs/updating.md states: without --quiet copier only
    # prints the news and exits 0; with --quiet it exits 2 when a newer tag exists.
    check = run([str(BIN / "copier"), "check-update"], project, env, check=False)
    assert check.returncode == 0 and "New template version available" in check.stdout + check.stderr
    check = run([str(BIN / "copier"), "check-update", "--quiet"], project, env, check=False)
    assert check.returncode == 2, check.stdout + check.stderr
    docs = (ROOT / "docs" / "updating.md").read_text()
    assert "copier check-update --quiet                # exit 2: a newer tag exists; 0: up to date" in docs

    # The workflow's command, minus --vcs-ref: copier picks the newest tag itself.
    result, seconds = timed([str(BIN / "copier"), "update", "--defaults", "--conflict", "inline"], project, env)
    print(f"\ncopier update --defaults --conflict inline: {seconds:.2f} s")
    assert result.returncode == 0, result.stdout + result.stderr

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    assert answers[NEW_QUESTION] == "100", "the new question's default was not recorded"
    assert_local_and_template_changes_merged(project)
    assert not (project / ".github" / "workflows" / "release.yml").exists(), (
        "a deleted file came back because the template changed it"
    )

    # The one line both sides changed: kept inline with both versions, the rest merged.
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    conflict = re.search(r"^<<<<<<< before updating\n(.*?)^=======\n(.*?)^>>>>>>> after updating$", ci, re.M | re.S)
    assert conflict, ci
    assert f"timeout-minutes: {local_timeout}" in conflict.group(1)
    assert f"timeout-minutes: {local_timeout - 5}" in conflict.group(2)
    assert TEMPLATE_STEP in ci, "a template change next to the conflict was not merged"
    # The workflow lists conflicts this way: copier leaves them unmerged in the index.
    unmerged = run(["git", "diff", "--name-only", "--diff-filter=U"], project, env).stdout.split()
    assert unmerged == [".github/workflows/ci.yml"]
    assert not list(project.rglob("*.rej"))

    # Committing as the workflow does keeps the markers in history, for the pull request.
    run(["git", "add", "--all"], project, env)
    run(["git", "commit", "-q", "--no-verify", "-m", "Update from the project template v0.2.0"], project, env)
    committed = run(["git", "show", "HEAD:.github/workflows/ci.yml"], project, env).stdout
    assert "<<<<<<< before updating" in committed
    assert run([str(BIN / "copier"), "check-update", "--quiet"], project, env, check=False).returncode == 0


# ----------------------------------------------------------------------------- cruft


def test_cruft_update_keeps_local_work_and_marks_conflicts_inline(tmp_path: Path) -> None:
    env = tool_env(tmp_path / "home")
    template = copy_template(tmp_path / "template", env)
    output = tmp_path / "out"
    output.mkdir()
    # cruft runs the pre-generation hook and loads the template's own Jinja extension.
    run([str(BIN / "cruft"), "create", "--no-input", "--output-dir", str(output), str(template)], tmp_path, env)
    project = output / "example-service"
    state = json.loads((project / ".cruft.json").read_text())
    v1 = run(["git", "rev-parse", "v0.1.0^{commit}"], template, env).stdout.strip()
    assert state["template"] == str(template) and state["commit"] == v1
    assert (project / ".copier-answers.yml").exists(), (
        "cruft renders through cookiecutter, which records for copier too"
    )
    commit_all(project, env, "Generated", init=True)
    local_timeout = edit_locally(project, env)

    assert run([str(BIN / "cruft"), "check"], project, env, check=False).returncode == 0
    advance_template(template, env)
    assert run([str(BIN / "cruft"), "check"], project, env, check=False).returncode == 1

    result, seconds = timed([str(BIN / "cruft"), "update", "--skip-apply-ask", "--checkout", "v0.2.0"], project, env)
    print(f"\ncruft update --skip-apply-ask --checkout v0.2.0: {seconds:.2f} s")
    assert result.returncode == 0, result.stdout + result.stderr

    state = json.loads((project / ".cruft.json").read_text())
    v2 = run(["git", "rev-parse", "v0.2.0^{commit}"], template, env).stdout.strip()
    assert state["commit"] == v2
    assert state["context"]["cookiecutter"][NEW_QUESTION] == "100", "the new question's default was not recorded"
    assert_local_and_template_changes_merged(project)
    assert not (project / ".github" / "workflows" / "release.yml").exists()

    # cruft applies the diff with `git apply -3`: the generation commit holds each file's base,
    # so the line both sides changed is marked inline (ours/theirs) and left unmerged in the
    # index. Without that base in history cruft falls back to `git apply --reject` (.rej files).
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    conflict = re.search(r"^<<<<<<< ours\n(.*?)^=======\n(.*?)^>>>>>>> theirs$", ci, re.M | re.S)
    assert conflict, ci
    assert f"timeout-minutes: {local_timeout}" in conflict.group(1)
    assert f"timeout-minutes: {local_timeout - 5}" in conflict.group(2)
    assert TEMPLATE_STEP in ci
    unmerged = run(["git", "diff", "--name-only", "--diff-filter=U"], project, env).stdout.split()
    assert unmerged == [".github/workflows/ci.yml"]
    assert not list(project.rglob("*.rej"))
    assert run([str(BIN / "cruft"), "check"], project, env, check=False).returncode == 0


def test_a_cookiecutter_project_takes_copier_updates_with_its_readme_command(tmp_path: Path) -> None:
    """cookiecutter records what copier and Renovate read: where the template came from and
    its tag. Updating to that same tag changes nothing; to the next one, applies it."""
    env = tool_env(tmp_path / "home")
    template = copy_template(tmp_path / "template", env)
    output = tmp_path / "out"
    run([str(BIN / "cookiecutter"), "--no-input", "--output-dir", str(output), str(template)], tmp_path, env)
    project = output / "example-service"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.0" and answers["_src_path"] == str(template)
    assert answers["project_slug"] == "example-service" and "package_index_credentials" not in answers
    commit_all(project, env, "Generated", init=True)

    readme = (project / "README.md").read_text()
    [command] = re.findall(r"^python3 scripts/template_update\.py$", readme, re.M)
    update = [*command.split(), "--defaults"]  # copier from the test tools, first on PATH
    run([*update, "--vcs-ref", "v0.1.0"], project, env)
    assert run(["git", "status", "--porcelain"], project, env).stdout == "", "an update to its own tag changed files"

    advance_template(template, env)
    result = run([*update, "--vcs-ref", "v0.2.0"], project, env)
    assert result.returncode == 0
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v0.2.0"
    assert (project / NEW_SCRIPT).is_file() and not (project / OLD_SCRIPT).exists()


# ----------------------------------------------------------------------------- the workflow's jobs


def update_workflow(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    project = render("cookiecutter", tmp_path / "render", {"template_update_workflow": True}).path
    return project, yaml.safe_load((project / ".github" / "workflows" / "template-update.yml").read_text())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "_commit: v0.1.0\n_src_path: gh:acme/python-template\n",
            {"repository": "python-template", "url": "https://github.com/acme/python-template.git"},
        ),
        (
            "_src_path: 'https://github.com/Acme/tpl.git'\n",
            {"repository": "tpl", "url": "https://github.com/Acme/tpl.git"},
        ),
        ("_src_path: /home/me/python-template\n", "is not a repository on https://github.com"),
        ("_src_path: gh:other-org/python-template\n", "not to this organization"),
        # A regex would read the first key; YAML takes the last, and copier would clone it.
        (
            '_src_path: gh:acme/python-template\n"_src_path": /tmp/evil-template\n',
            "gives _src_path more than once: keep one of each",
        ),
        ("_commit: v0.1.0\n", "has no _src_path"),
        ("_src_path: [unclosed\n", "is not valid YAML"),
        (None, ".copier-answers.yml does not exist"),
    ],
)
def test_workflow_finds_the_template_repository_as_copier_reads_it_or_says_why_not(
    tmp_path: Path, content: str | None, expected: dict[str, str] | str
) -> None:
    project, workflow = update_workflow(tmp_path)
    script = next(s for s in workflow["jobs"]["locate"]["steps"] if s.get("id") == "source")["run"]
    work = tmp_path / "work"
    (work / "scripts").mkdir(parents=True)
    shutil.copy(project / "scripts" / "template_update.py", work / "scripts")
    if content is not None:
        (work / ".copier-answers.yml").write_text(content)
    output = tmp_path / "github_output"
    output.touch()
    # pipx's venv of copier, as the workflow installs it: here the test interpreter, with PyYAML.
    venvs, tools = tmp_path / "pipx-venvs", tmp_path / "bin"
    (venvs / "copier" / "bin").mkdir(parents=True)
    (venvs / "copier" / "bin" / "python").symlink_to(sys.executable)
    tools.mkdir()
    (tools / "pipx").write_text(f"#!/bin/sh\necho {venvs}\n")
    (tools / "pipx").chmod(0o755)
    env = tool_env(
        tmp_path / "home",
        SERVER_URL="https://github.com",
        OWNER="acme",
        GITHUB_OUTPUT=str(output),
        GITHUB_ACTIONS="true",
    )
    env["PATH"] = f"{tools}:{env['PATH']}"
    result = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True)
    if isinstance(expected, dict):
        assert result.returncode == 0, result.stdout + result.stderr
        assert dict(line.split("=", 1) for line in output.read_text().splitlines()) == expected
    else:
        assert result.returncode == 1 and "::error title=Template update::" in result.stdout, result.stderr
        assert expected in result.stdout and not output.read_text()


def test_workflow_says_whether_the_template_tags_are_unreadable_or_missing(tmp_path: Path) -> None:
    project, workflow = update_workflow(tmp_path)
    assert workflow["defaults"]["run"]["shell"] == "bash"
    fetch = next(s for s in workflow["jobs"]["read"]["steps"] if s.get("id") == "fetch")["run"]
    assert fetch.startswith("python3 -I scripts/template_update.py fetch ")
    env = tool_env(tmp_path / "home", GITHUB_ACTIONS="true")
    untagged = tmp_path / "untagged"
    run(["git", "init", "--quiet", str(untagged)], tmp_path, env)
    run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "--allow-empty", "-m", "x"],
        untagged,
        env,
    )
    run(["git", "tag", "v1.2"], untagged, env)
    # A failing ls-remote must not read as "no tag".
    for url, expected in [
        (tmp_path / "missing", "cannot read the tags of"),
        (untagged, "has no vMAJOR.MINOR.PATCH tag"),
    ]:
        command = ["python3", "-I", "scripts/template_update.py", "fetch", "--url", str(url), "--into", "out"]
        result = run(command, project, env, check=False)
        assert result.returncode == 1 and "::error title=Template update::" in result.stdout, (
            result.stdout + result.stderr
        )
        assert expected in result.stdout
        assert not (project / "out" / "template.bundle").exists()


def job_text(job: dict[str, Any]) -> str:
    return json.dumps(job)


def test_copier_runs_only_in_jobs_that_hold_no_secret_and_the_write_token_only_in_the_last_step(
    tmp_path: Path,
) -> None:
    """The App key (and so every token minted from it) lives in `read` and `propose`, which run
    git and this repository's own script only; copier runs in `locate` and `render`, which have
    no secret, no environment, and `render` no token at all. The write token is minted after
    the patch is applied, for one step that runs the system's git and Python."""
    _, workflow = update_workflow(tmp_path)
    jobs = workflow["jobs"]
    assert list(jobs) == ["locate", "read", "render", "propose"]
    for name, job in jobs.items():
        runs_tools = re.search(r"\b(copier|cruft|pipx)\b", " ".join(str(s.get("run", "")) for s in job["steps"]))
        holds_secrets = "secrets." in job_text(job)
        assert not (runs_tools and holds_secrets), name
        assert ("environment" in job) == holds_secrets, name
    assert {name for name, job in jobs.items() if "secrets." in job_text(job)} == {"read", "propose"}
    assert jobs["render"]["permissions"] == {} and "checkout" not in job_text(jobs["render"])
    read = next(step for step in jobs["read"]["steps"] if step.get("id") == "read-token")
    assert read["with"]["permission-contents"] == "read" and set(read["with"]) >= {"repositories"}
    assert "permission-pull-requests" not in read["with"] and "permission-workflows" not in read["with"]
    steps = jobs["propose"]["steps"]
    names = [step.get("name") for step in steps]
    write = next(step for step in steps if step.get("id") == "write-token")
    assert write["with"]["repositories"] == "${{ github.event.repository.name }}"
    assert names.index("Apply the patch") < names.index(write["name"])
    users = [step for step in steps if "write-token" in json.dumps(step.get("env", {}))]
    assert [step["name"] for step in users] == ["Commit and open the pull request"] == names[-1:]
    for step in (users[0], next(step for step in steps if step.get("id") == "apply")):
        env = step["env"]
        assert env["PATH"] == "/usr/bin:/bin" and env["GIT_CONFIG_GLOBAL"] == "/dev/null", step["name"]
        # This branch's copy of the script, out of the patch's reach, in isolated mode.
        assert step["run"].startswith('python3 -I "${RUNNER_TEMP}/template_update.py" '), step["name"]
    keep = names.index("Keep the update script of this branch")
    assert keep < names.index("Take the patch")


@pytest.mark.parametrize("workflow", ["template-update.yml", "release.yml"])
def test_the_update_and_release_workflows_hide_no_program_in_yaml(tmp_path: Path, workflow: str) -> None:
    """Their logic lives in scripts of the tree (template_update.py, release_gate.sh), which the
    project's ruff, mypy and shellcheck see: no run: block holds a here-document, an inline
    program or more than 20 lines."""
    project, _ = update_workflow(tmp_path)
    document = yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())
    for name, job in document["jobs"].items():
        for step in job["steps"]:
            script = step.get("run", "")
            where = f"{workflow}: {name}: {step['name']}"
            assert len(script.splitlines()) <= 20, where
            assert "<<" not in script and not re.search(r"\bpython3? (-\w+ )*-c\b", script), where


def test_update_tools_are_pinned_as_the_template_tests_them() -> None:
    """copier's pin in the workflow, the docs and requirements-test.txt is one version."""
    pinned = re.search(r"^copier==(\S+)$", (ROOT / "requirements-test.txt").read_text(), re.M)
    assert pinned
    workflow = (TREE / ".github" / "workflows").glob("*template-update.yml*")
    texts = [path.read_text() for path in workflow] + [(ROOT / "docs" / "updating.md").read_text()]
    found = {version for text in texts for version in re.findall(r"copier==(\d[\w.]*)", text)}
    assert found == {pinned[1]}, found

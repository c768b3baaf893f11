"""The template's README: its Quick start commands work as written and CI runs the test one; its
questions table is written from copier.yml's questions and their help; it stays an adopter's guide.

The demo test runs `python3 tasks.py demo` as a person would (about 15-30 s once .venv exists)
and checks what it shows and what it leaves behind: the project, and no token, server or
credential cache.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import ROOT, render
from support.engines import STOCK_COPIER

# A demo token's shape (demo/local_git_server.py's new_token): what must not be on disk.
TOKEN_SHAPE = re.compile(rb"ghp_[A-Za-z0-9]{36}")


def readme() -> str:
    return (ROOT / "README.md").read_text()


def section(title: str) -> str:
    return readme().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def quick_start_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", section("Quick start"), re.S)
    assert block, "the Quick start section has a shell block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def run_as_written(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """A README line `python3 tasks.py ...`, with this interpreter standing in for python3."""
    program, *arguments = command.split()
    assert program == "python3"
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=os.environ
    )


def test_quick_start_is_demo_generate_test_and_ci_runs_the_test_command() -> None:
    assert quick_start_commands() == ["python3 tasks.py demo", "python3 tasks.py generate", "python3 tasks.py test"]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "python3 tasks.py test" in ci_lines, ".ci/run must run the README's test command as written"
    assert "```sh\npython3 tasks.py test\n```" in section("Testing the template")


def test_readme_generate_command_renders_the_default_project_and_says_what_next() -> None:
    result = run_as_written(quick_start_commands()[1], timeout=300)
    assert result.returncode == 0, result.stderr
    project = ROOT / "generated" / "example-service"
    assert 'name = "example-service"' in (project / "pyproject.toml").read_text()
    assert (project / ".github" / "workflows" / "ci.yml").exists()
    assert f"Next steps: make {project} a repository on github.com." in result.stderr
    assert "Generated generated/example-service/" in result.stdout
    assert "do not\nexist, so it cannot install" in result.stdout and "python3 tasks.py demo" in result.stdout


@pytest.mark.slow
def test_readme_demo_command_shows_the_whole_point_and_leaves_no_secret() -> None:
    result = run_as_written(quick_start_commands()[0], timeout=900)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    steps = [out.index(f"== {number}/6 ") for number in range(1, 7)]
    assert steps == sorted(steps), "the six steps, in order"
    # The check, without and then with the credential; the install; the import.
    before, after = out.split("== 4/6 ", 1)
    assert re.search(r"^    FAIL  app-lib .*no credentials.*fix: ", before, re.M)
    assert re.search(r"^    FAIL  core-lib .*no credentials.*fix: ", before, re.M)
    assert re.search(r"^    ok    app-lib ", after, re.M) and re.search(r"^    ok    core-lib ", after, re.M)
    assert "Installing app-lib (1.0.0" in after and "\n    app 1.0.0 on core 1.0.0\n" in after
    assert "The project is in generated/demo-service/" in out
    assert "Next steps: make" in out, "cookiecutter's next steps, shown as a user sees them"

    project = ROOT / "generated" / "demo-service"
    assert (project / "poetry.lock").is_file() and (project / ".venv").is_dir()
    leaked = [
        path
        for path in project.rglob("*")
        if path.is_file() and not path.is_symlink() and TOKEN_SHAPE.search(path.read_bytes())
    ]
    assert leaked == []
    # The server is gone, and so is the credential cache daemon of the throw-away HOME.
    port = int(re.search(r"https://127\.0\.0\.1:(\d+)/acme/", out)[1])  # type: ignore[index]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    daemons = [
        cmdline
        for cmdline in (path.read_bytes() for path in Path("/proc").glob("[0-9]*/cmdline") if path.exists())
        if b"credential-cache" in cmdline and b"template-demo-" in cmdline
    ]
    assert daemons == []


def copier_questions() -> list[str]:
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    return [name for name, spec in questions.items() if not name.startswith("_") and spec.get("when") is not False]


def test_questions_table_lists_every_question_of_copier_yml_in_order() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \|", section("The questions"), re.M)
    assert rows == copier_questions()


def test_questions_table_is_copier_ymls_help_and_defaults_and_goes_stale_when_they_change() -> None:
    """Help is written once, in copier.yml; maintainer/write_question_files.py writes the table."""
    from maintainer import write_question_files as writer

    copier = yaml.safe_load((ROOT / "copier.yml").read_text())
    modes = writer.git_auth_modes()
    assert writer.readme_md(readme(), copier, modes) == readme(), (
        "stale: run python3 maintainer/write_question_files.py"
    )
    copier["license"]["help"] = "Which license"
    copier["git_auth"]["default"] = "ssh"
    modes["ssh"]["costs"] = "a key to rotate yearly"
    rows = writer.readme_md(readme(), copier, modes).splitlines()
    # The table of modes is templates/git_auth/modes.yml's, with copier.yml's default.
    assert any(row.startswith("| `ssh` (default) |") and "| a key to rotate yearly |" in row for row in rows)
    assert any(row.startswith("| `token` | secret `POETRY_GIT_TOKEN`") for row in rows)
    assert "| `license` | Which license | `Proprietary` (or `MIT`) |" in rows
    assert any(
        row.startswith("| `git_auth` | How CI reads")
        and row.endswith("| `ssh` (or `token`, `github-app`, `poetry-http-basic`) |")
        for row in rows
    )
    # The first clause of each help, without asides: the prompts show the rest.
    assert "| `project_slug` | Repository and distribution name | from `project_name` |" in rows
    assert "| `github_host` | GitHub host | `github.com` |" in rows


def test_readme_stays_an_adopters_guide() -> None:
    text = readme()
    prose = re.sub(r"(?ms)^```.*?^```\n", "", text)
    words = len(" ".join(line for line in prose.splitlines() if not line.lstrip().startswith("|")).split())
    assert words <= 1000, f"{words} words of prose: maintainers' material goes to CONTRIBUTING.md"
    # With its tables: what `sed '/^```/,/^```/d' README.md | wc -w` counts.
    with_tables = len(re.sub(r"(?ms)^```.*?^```[^\n]*(\n|\Z)", "", text).split())
    assert with_tables <= 1200, f"{with_tables} words outside code blocks, tables included"
    # Stock copier renders the template: no command trusts it or installs anything beside copier.
    commands = "\n".join(re.findall(r"(?ms)^```sh\n(.*?)^```", text))
    assert "--trust" not in commands and "inject" not in commands and "copier-template-extensions" not in text
    assert "pipx install copier\n" in commands
    # Generate from the https URL and a tag, on github.com and on an Enterprise Server.
    assert "cookiecutter https://github.com/your-org/python-template.git --checkout v1.0.0" in text
    assert "copier copy --vcs-ref v1.0.0 https://github.com/your-org/python-template.git search-api" in text
    assert not re.search(r"(cookiecutter|copy|create) gh:", text), "the gh: shorthand means github.com only"
    for needed in ("--visibility selected", "--app dependabot", "CONTRIBUTING.md"):
        assert needed in text


def test_copier_s_example_generates_into_the_folder_its_next_steps_create_the_repository_from(tmp_path: Path) -> None:
    """The README's copier line names a folder; the next steps run `gh repo create ORG/SLUG
    --source .` in it: the folder and the slug agree when the person answers as the README says."""
    line = next(line for line in section("Generate a repository").splitlines() if line.startswith("copier copy"))
    folder = line.rsplit(" ", 1)[1]
    said = " ".join(section("Generate a repository").split())
    assert f"the next steps run `gh repo create your-org/{folder} --source .` there" in said
    answers = ["--data", "project_name=Search API", "--data", "github_org=your-org"]
    command = [str(STOCK_COPIER), "copy", "--defaults", *answers, str(ROOT), str(tmp_path / folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"  cd {tmp_path / folder}\n" in result.stderr
    assert f"  gh repo create your-org/{folder} --private --source . --push\n" in result.stderr


def test_the_organization_imports_upstream_s_main_and_releases_versions_of_its_own() -> None:
    """Step 1 names the upstream URL and pushes no upstream tag; step 2 starts the CHANGELOG."""
    commands = re.findall(r"(?ms)^```sh\n(.*?)^```", section("Bring it into your organization"))
    assert "git clone --bare UPSTREAM_URL python-template.git" in commands[0]
    assert "--mirror" not in commands[0] and "--tags" not in commands[0]
    assert "python3 tasks.py release 1.0.0 --imported-from UPSTREAM_URL" in commands[1]
    guide = " ".join((ROOT / "docs" / "adopting.md").read_text().split())
    for said in (
        "`UPSTREAM_URL` in the README's first step is the template's public origin",
        "git fetch --no-tags upstream",
        "git merge upstream/main",
        "Prove that CI reads the private repositories",
    ):
        assert said in guide, said


def test_the_guide_s_proof_of_access_runs_what_the_generated_workflows_offer(tmp_path: Path) -> None:
    """docs/adopting.md starts ci.yml by hand and points at one step of it: both must exist."""
    guide = (ROOT / "docs" / "adopting.md").read_text()
    project = render("cookiecutter", tmp_path, {}).path
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    assert "gh workflow run ci.yml --repo your-org/billing" in guide
    assert "workflow_dispatch" in ci[True], "ci.yml can be started by hand"  # YAML 1.1 reads `on` as True
    step = re.search(r'the step "([^"]+)"', " ".join(guide.split()))
    assert step, "the guide names the step to read"
    jobs = [job for job in ci["jobs"].values() if step[1] in [s.get("name") for s in job.get("steps", [])]]
    assert [job["name"] for job in jobs] == ["Fetch the private dependencies"], "the credential job runs that step"
    assert 'the job "Fetch the private dependencies"' in " ".join(guide.split())

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
from support import ROOT

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
    assert writer.readme_md(readme(), copier) == readme(), "stale: run python3 maintainer/write_question_files.py"
    copier["license"]["help"] = "Which license"
    copier["git_auth"]["default"] = "ssh"
    rows = writer.readme_md(readme(), copier).splitlines()
    assert "| `license` | Which license | `Proprietary` (or `MIT`) |" in rows
    assert any(
        row.startswith("| `git_auth` | How CI reads")
        and row.endswith("| `ssh` (or `token`, `github-app`, `poetry-http-basic`) |")
        for row in rows
    )
    assert (
        "| `project_slug` | Repository and distribution name (a-z, 0-9, single hyphens; e.g. billing-service)"
        " | from `project_name` |" in rows
    )


def test_readme_stays_an_adopters_guide() -> None:
    text = readme()
    prose = re.sub(r"(?ms)^```.*?^```\n", "", text)
    words = len(" ".join(line for line in prose.splitlines() if not line.lstrip().startswith("|")).split())
    assert words <= 1000, f"{words} words of prose: maintainers' material goes to CONTRIBUTING.md"
    # Stock copier renders the template: no command trusts it or installs anything beside copier.
    commands = "\n".join(re.findall(r"(?ms)^```sh\n(.*?)^```", text))
    assert "--trust" not in commands and "inject" not in commands and "copier-template-extensions" not in text
    assert "pipx install copier\n" in commands
    # Generate from the https URL and a tag, on github.com and on an Enterprise Server.
    assert "cookiecutter https://github.com/your-org/python-template.git --checkout v1.0.0" in text
    assert "copier copy --vcs-ref v1.0.0 https://github.com/your-org/python-template.git my-project" in text
    assert not re.search(r"(cookiecutter|copy|create) gh:", text), "the gh: shorthand means github.com only"
    for needed in ("git push --mirror", "--visibility selected", "--app dependabot", "CONTRIBUTING.md"):
        assert needed in text

"""cookiecutter run as people run it, from the command line, when answers are bad.

- Nothing is created before copier.yml's validators accept every answer: not for a slug that
  names a path, not with `--accept-hooks=no`, not by `--replay` of an edited replay file.
- The command printed after bad answers does what it says: corrected, it generates the template
  version that was asked for (`--checkout`), and the defaults derived from a bad answer follow
  its correction (runner_labels from github_host, package_name from project_slug).
- `python3 tasks.py generate` gives a bad choice or yes/no the same one-line reasons, and each
  command it prints runs there (cookiecutter and Poetry live in the checkout's .venv).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from support import BIN, ROOT, run, tool_env
from support.engines import STOCK_COPIER
from support.template_copy import commit_all, copy_template

COOKIECUTTER = str(BIN / "cookiecutter")


def config_file(tmp_path: Path) -> Path:
    """A cookiecutter config of this test alone: its clones and replay files."""
    config = tmp_path / "cookiecutter.yml"
    config.write_text(
        yaml.safe_dump({"cookiecutters_dir": str(tmp_path / "clones"), "replay_dir": str(tmp_path / "replay")})
    )
    return config


def rerun_line(output: str) -> list[str]:
    """The command printed after bad answers, as the shell splits it."""
    lines = output.splitlines()
    at = next(index for index, line in enumerate(lines) if line.startswith("Run it again with "))
    return shlex.split(lines[at + 1])


@pytest.mark.parametrize(
    ("slug", "reason"), [("a/b", "use only a-z, 0-9 and hyphens"), ("../x", "must start with a lower-case a-z")]
)
@pytest.mark.parametrize("hooks", ["yes", "no"])
def test_a_slug_that_names_a_path_creates_nothing_with_or_without_hooks(
    slug: str, reason: str, hooks: str, tmp_path: Path
) -> None:
    """cookiecutter makes the project directory before pre_gen_project runs, and skips hooks with
    --accept-hooks=no: the check after the last question stops it first. copier agrees."""
    work = tmp_path / "work"
    work.mkdir()
    command = [COOKIECUTTER, "--no-input", "--accept-hooks", hooks, "-o", "out", str(ROOT), f"project_slug={slug}"]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=tool_env(tmp_path / "home"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"  project_slug = {slug!r}: {reason}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert list(work.iterdir()) == []

    data = tmp_path / "data.yml"
    data.write_text(yaml.safe_dump({"project_slug": slug}))
    copier = [str(STOCK_COPIER), "copy", "--defaults", "--data-file", str(data), str(ROOT), "out/project"]
    result = subprocess.run(copier, cwd=work, capture_output=True, text=True)
    # (copier's own CLI shows a traceback for bad --data answers; typed ones it asks again.)
    assert result.returncode != 0 and f"'project_slug': {reason}" in result.stderr
    assert list(work.iterdir()) == []


def test_a_replayed_file_edited_by_hand_is_checked_again_before_any_file(tmp_path: Path) -> None:
    """--replay skips the questions, so hooks/pre_gen_project.py checks; cookiecutter removes the
    project directory it had made."""
    config = config_file(tmp_path)
    base = [COOKIECUTTER, "--config-file", str(config), "-o", str(tmp_path / "out")]
    run([*base, "--no-input", str(ROOT), "project_slug=first"], tmp_path)
    replay = tmp_path / "replay" / f"{ROOT.name}.json"
    saved = json.loads(replay.read_text())
    saved["cookiecutter"].update(project_slug="second", github_org="acme..corp")
    replay.write_text(json.dumps(saved))
    result = run([*base, "--replay", str(ROOT)], tmp_path, check=False)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [
        "Cannot generate the project: 1 answer(s) not valid, cookiecutter removes the project directory it made.",
        "  github_org = 'acme..corp': use only letters, digits and -",
    ]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["first"]


def test_the_printed_command_keeps_the_tag_and_recomputes_derived_defaults(tmp_path: Path) -> None:
    """The template's main has moved past v1.0.0; the person asked for v1.0.0 with a bad host
    and slug. Corrected, the printed command renders v1.0.0, and runner_labels and package_name
    (derived from the bad answers, never given) follow the corrections."""
    env = tool_env(tmp_path / "home")
    template = copy_template(tmp_path / "template", env)
    for version in ("v1.0.0", "after v1.0.0"):
        (template / "CHANGELOG.md").write_text(f"A change for {version}.\n")
        commit_all(template, env, version)
    run(["git", "tag", "v1.0.0", "HEAD~"], template, env)
    asked = ["github_host=github com", "project_slug=Billing Service", "github_org=acme"]
    options = ["--no-input", "--checkout", "v1.0.0", "--config-file", str(config_file(tmp_path)), "--output-dir", "out"]
    result = run([COOKIECUTTER, *options, f"git+file://{template}", *asked], tmp_path, env, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "  github_host = 'github com': is not a valid host name" in result.stdout
    assert not (tmp_path / "out").exists()

    rerun = rerun_line(result.stdout)
    bad_last = ["github_org=acme", "project_slug=Billing Service", "github_host=github com"]
    assert rerun == ["cookiecutter", *options, f"git+file://{template}", *bad_last]
    corrected = [*rerun[:-2], "project_slug=billing-service", "github_host=github.com"]
    fixed = run([COOKIECUTTER, *corrected[1:]], tmp_path, env)
    assert fixed.returncode == 0
    answers = yaml.safe_load((tmp_path / "out" / "billing-service" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.0.0"
    assert (answers["runner_labels"], answers["package_name"]) == ("ubuntu-24.04", "billing_service")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of this checkout, sharing its .venv, where `python3 tasks.py generate` writes."""
    copy = tmp_path / "checkout"
    ignored = shutil.ignore_patterns(".git", ".venv*", "node_modules", "generated", "__pycache__")
    shutil.copytree(ROOT, copy, ignore=ignored)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def tasks_generate(checkout: Path, arguments: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """As a person runs it: no tool of .venv on PATH."""
    env = tool_env(home, PATH=os.defpath)
    return run(["python3", "tasks.py", "generate", *arguments], checkout, env, check=False)


def test_tasks_generate_refuses_a_bad_choice_or_yes_no_with_one_line_reasons(checkout: Path, tmp_path: Path) -> None:
    """cookiecutter itself raises on these before the template's check runs, and ignores a name
    that is no question."""
    arguments = ["github_org=acme", "git_auth=sshh", "release_workflow=maybe", "githuborg=acme"]
    result = tasks_generate(checkout, arguments, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Cannot generate the project: 3 answer(s) not valid, nothing written.",
        "  git_auth = 'sshh': choose one of token, github-app, ssh, poetry-http-basic",
        "  release_workflow = 'maybe': answer yes or no",
        "  githuborg = 'acme': is not a question: leave it out (README.md lists them)",
    ]
    assert rerun_line(result.stdout) == ["python3", "tasks.py", "generate", *arguments]
    assert not (checkout / "generated").exists()


def test_tasks_generate_prints_commands_that_run_where_it_prints_them(checkout: Path, tmp_path: Path) -> None:
    """The rerun is `python3 tasks.py generate`, not a cookiecutter that is not on PATH; once
    corrected it generates, and the next steps name the checkout's Poetry."""
    result = tasks_generate(checkout, ["github_org=acme", "github_host=github com"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "  github_host = 'github com': is not a valid host name" in result.stdout
    rerun = rerun_line(result.stdout)
    assert rerun == ["python3", "tasks.py", "generate", "github_org=acme", "github_host=github com"]
    fixed = tasks_generate(checkout, [*rerun[3:-1], "github_host=github.com"], tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert (checkout / "generated" / "example-service" / "pyproject.toml").is_file()
    steps = [line.strip() for line in fixed.stderr.splitlines() if line.startswith("  ")]
    assert f"{checkout / '.venv' / 'bin' / 'poetry'} lock" in steps and "poetry lock" not in steps

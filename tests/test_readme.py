"""The README's two commands are the ones CI runs, and they work as written."""

from __future__ import annotations

import re
import subprocess
import sys

from support import ROOT


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the Quick start section has a shell block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_gives_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    generate, test = quick_start_commands()
    assert (generate, test) == ("python3 tasks.py generate", "python3 tasks.py test")
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines, ".ci/run must run the README's test command as written"


def test_readme_generate_command_renders_the_default_project() -> None:
    command = quick_start_commands()[0].split()
    result = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    project = ROOT / "generated" / "example-service"
    assert 'name = "example-service"' in (project / "pyproject.toml").read_text()
    assert (project / ".github" / "workflows" / "ci.yml").exists()

"""The generated project's own checks run for real: install, lint, type check, hooks, tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Bake, package_index_url, run, tool_env


@pytest.mark.slow
def test_default_project_installs_and_passes_its_own_checks(bake: Bake, tmp_path: Path) -> None:
    # Poetry's default source cannot lock here; the package-index question is the honest way in.
    project = bake({"private_dependencies": "", "package_index_url": package_index_url()}).path
    env = tool_env(tmp_path / "home")
    run(["git", "init", "-q", "-b", "main"], project, env)

    run(["poetry", "lock"], project, env)
    run(["poetry", "check", "--lock"], project, env)
    run(["poetry", "sync", "--no-interaction"], project, env)
    assert (project / ".venv" / "bin" / "ruff").exists(), "the virtualenv must live in the project"

    run(["poetry", "run", "ruff", "check", "."], project, env)
    run(["poetry", "run", "ruff", "format", "--check", "."], project, env)
    run(["poetry", "run", "mypy"], project, env)
    tests = run(["poetry", "run", "pytest"], project, env)
    assert "1 passed" in tests.stdout and "100%" in tests.stdout

    run(["git", "add", "-A"], project, env)
    hooks = run(["poetry", "run", "pre-commit", "run", "--all-files"], project, env)
    for hook in ("ruff check", "ruff format", "mypy", "poetry check --lock"):
        assert hook in hooks.stdout and "Failed" not in hooks.stdout, hooks.stdout

    check = run(["python3", "scripts/check_private_deps.py"], project, env)
    assert check.stdout.strip() == "no private git dependencies to check"

"""The template's guard against rendering into a repository's `.git` (tests/test_template_guard.py),
shared with the test that runs it on a hostile template release."""

from __future__ import annotations

from pathlib import Path

import yaml
from copier._template import DEFAULT_EXCLUDE

from support.engines import render
from support.option_sets import OPTION_SETS

# Option sets rendered with copier by the guard; cookiecutter's renders of every set are shared.
COPIER_SETS = ("defaults", "template-updates")


def exclude_problems(template: Path) -> list[str]:
    settings = yaml.safe_load((template / "copier.yml").read_text())
    excluded = settings.get("_exclude")
    if not isinstance(excluded, list):
        return ["copier.yml sets no _exclude list: with a _subdirectory copier excludes nothing, not even .git"]
    missing = [entry for entry in DEFAULT_EXCLUDE if entry not in excluded]
    return [f"copier.yml's _exclude drops copier's defaults {missing}"] if missing else []


def git_dir_paths(project: Path) -> list[str]:
    """Rendered paths inside a `.git` folder, in any case, at any depth."""
    return sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if any(part.casefold() == ".git" for part in path.relative_to(project).parts)
    )


def guard_problems(template: Path, workdir: Path, option_sets: tuple[str, ...] = COPIER_SETS) -> list[str]:
    """What is wrong with `template`'s guard against rendering into .git (copier's renders)."""
    problems = exclude_problems(template)
    for name in option_sets:
        project = render("copier", workdir / name, OPTION_SETS[name], template=template)
        problems += [f"{name}: renders {path}" for path in git_dir_paths(project.path)]
    return problems

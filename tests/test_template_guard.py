"""The template never renders into a repository's `.git`, where git would run what it finds.

Stock copier lets a template write `.git/config` (with an fsmonitor program) or `.git/hooks/*`
into the destination, and git runs them on its next command. With a `_subdirectory` copier's
default `_exclude` is empty, so copier.yml lists copier's own defaults, `.git` among them. The
guard fails when copier.yml drops any of them, or when any path of the project tree renders
inside `.git` (any case, any depth) with either engine. It catches accidents; a malicious tag
could delete it, which is why the template's tags are protected (docs/updating.md, "Trust").
tests/test_template_update_workflow.py runs it on the red team's release, where it must fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from copier._template import DEFAULT_EXCLUDE
from support import OPTION_SETS, ROOT, Project
from support.template_guard import exclude_problems, git_dir_paths, guard_problems


def test_the_template_renders_nothing_inside_git_and_keeps_copiers_default_excludes(tmp_path: Path) -> None:
    assert guard_problems(ROOT, tmp_path) == []


@pytest.mark.parametrize("name", OPTION_SETS)
def test_no_option_set_renders_inside_git_with_cookiecutter(rendered: dict[str, Project], name: str) -> None:
    assert git_dir_paths(rendered[name].path) == []


@pytest.mark.parametrize("entry", DEFAULT_EXCLUDE)
def test_the_guard_fails_when_copier_yml_drops_a_default_exclude(tmp_path: Path, entry: str) -> None:
    (tmp_path / "copier.yml").write_text(
        yaml.safe_dump({"_exclude": [item for item in DEFAULT_EXCLUDE if item != entry]})
    )
    assert exclude_problems(tmp_path) == [f"copier.yml's _exclude drops copier's defaults {[entry]}"]


@pytest.mark.parametrize("name", [".git/config", "sub/.GIT/x", ".Git/hooks/post-checkout"])
def test_the_guard_finds_a_rendered_path_inside_git_in_any_case_at_any_depth(tmp_path: Path, name: str) -> None:
    (tmp_path / name).parent.mkdir(parents=True)
    (tmp_path / name).write_text("x")
    (tmp_path / "README.md").write_text("x")
    assert name in git_dir_paths(tmp_path)
    assert "README.md" not in git_dir_paths(tmp_path)

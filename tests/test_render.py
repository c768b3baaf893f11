"""Both engines render every named option set into the same, valid, fully rendered tree."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import OPTION_SETS, ROOT, answers_for, render_copier, template_rules, tree_files

UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")


def test_question_files_are_written_from_the_rules_module() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/write_question_files.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", OPTION_SETS)
def test_every_file_is_rendered_and_parses(rendered: dict[str, Path], name: str) -> None:
    project = rendered[name]
    for relative, content in tree_files(project).items():
        text = content.decode("utf-8")
        assert not UNRENDERED.search(text), f"{name}/{relative} keeps Jinja syntax"
        if relative.endswith(".toml"):
            tomllib.loads(text)
        elif relative.endswith((".yml", ".yaml")):
            assert yaml.safe_load(text) is not None, relative
        elif relative.endswith(".json"):
            json.loads(text)
        elif relative.endswith(".py"):
            compile(text, relative, "exec")


@pytest.mark.parametrize("name", OPTION_SETS)
def test_private_dependencies_are_plain_https_urls_pinned_to_their_refs(rendered: dict[str, Path], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    pyproject = tomllib.loads((rendered[name] / "pyproject.toml").read_text())
    expected = {}
    for entry in filter(None, (e.strip() for e in answers["private_dependencies"].split(","))):
        path, ref = entry.split("@", 1)
        org, _, repo = path.rpartition("/")
        kind = "rev" if re.fullmatch(r"[0-9a-f]{7,40}", ref) else "tag" if re.match(r"v?\d", ref) else "branch"
        url = f"https://{answers['github_host']}/{org or answers['github_org']}/{repo}.git"
        expected[re.sub(r"[-_.]+", "-", repo).lower()] = {"git": url, kind: ref}
    assert pyproject["tool"]["poetry"].get("dependencies", {}) == expected
    assert pyproject["project"]["dynamic"] == ["dependencies"]
    assert "@" not in "".join(dep["git"].split("://", 1)[1] for dep in expected.values())


@pytest.mark.parametrize("name", OPTION_SETS)
def test_project_metadata_comes_from_the_answers(rendered: dict[str, Path], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    project = rendered[name]
    assert project.name == answers["project_slug"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    meta = pyproject["project"]
    assert meta["name"] == answers["project_slug"]
    assert meta["description"] == answers["description"]
    assert meta["authors"] == [{"name": answers["author_name"], "email": answers["author_email"]}]
    assert meta["requires-python"] == f">={answers['python_version']}"
    assert (project / "src" / answers["package_name"] / "py.typed").exists()
    assert (project / "poetry.toml").read_text().count("in-project = true") == 1
    sources = pyproject["tool"]["poetry"].get("source", [])
    if answers["package_index_url"]:
        assert sources == [{"name": "mirror", "url": answers["package_index_url"], "priority": "primary"}]
    else:
        assert sources == []


@pytest.mark.parametrize("name", OPTION_SETS)
def test_optional_files_follow_their_answers(rendered: dict[str, Path], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    project = rendered[name]
    workflows = project / ".github" / "workflows"
    assert (workflows / "release.yml").exists() == answers["release_workflow"]
    assert (project / "renovate.json").exists() == (answers["update_bot"] == "renovate")
    assert (project / "LICENSE").exists() == (answers["license"] == "MIT")
    assert not (project / ".copier-answers.yml").exists(), "cookiecutter must not write copier's answers file"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_copier_renders_the_same_tree_as_cookiecutter(rendered: dict[str, Path], tmp_path: Path, name: str) -> None:
    copied = render_copier(tmp_path / "copier", OPTION_SETS[name])
    answers = yaml.safe_load((copied / ".copier-answers.yml").read_text())
    for key, value in answers_for(OPTION_SETS[name]).items():
        assert answers[key] == value, key
    copier_files = tree_files(copied)
    del copier_files[".copier-answers.yml"]
    cookiecutter_files = tree_files(rendered[name])
    assert sorted(copier_files) == sorted(cookiecutter_files)
    for relative, content in cookiecutter_files.items():
        assert copier_files[relative] == content, f"{relative} differs between the engines"


def test_rules_module_derives_names_the_same_way_for_both_engines() -> None:
    assert template_rules.slug_of("  Café Billing Service! ") == "cafe-billing-service"
    assert template_rules.package_of("cafe-billing-service") == "cafe_billing_service"

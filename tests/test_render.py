"""Every named option set renders into a complete, valid tree, the same from both engines."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jinja2
import pytest
import yaml
from support import OPTION_SETS, ROOT, TREE, Bake, Project, answers_for, differences, render

# `${{ }}` is a GitHub expression and `{{ secrets.X }}` a Renovate one: both are meant to stay.
UNRENDERED = re.compile(r"(?<!\$)\{\{(?! secrets\.)|\{%|\{#")
# A file the tree holds only on a condition: `{% if <condition> %}<name>{% endif %}`.
CONDITIONAL = re.compile(r"\{% if (.+?) %\}(.+?)\{% endif %\}")


@pytest.mark.parametrize("name", OPTION_SETS)
def test_every_file_is_rendered_and_parses(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name]
    for relative, content in project.files().items():
        text = content.decode("utf-8")
        assert not UNRENDERED.search(text), f"{name}/{relative} keeps Jinja syntax"
        if relative.endswith(".toml"):
            tomllib.loads(text)
        elif relative.endswith((".yml", ".yaml")):
            assert project.yaml(relative) is not None, relative
        elif relative.endswith(".json"):
            json.loads(text)
        elif relative.endswith(".py"):
            compile(text, relative, "exec")


@pytest.mark.parametrize("name", OPTION_SETS)
def test_private_dependencies_are_plain_https_urls_pinned_to_their_refs(
    rendered: dict[str, Project], name: str
) -> None:
    answers = answers_for(OPTION_SETS[name])
    pyproject = rendered[name].toml()
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
def test_project_metadata_comes_from_the_answers(rendered: dict[str, Project], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    project = rendered[name]
    assert project.path.name == answers["project_slug"]
    meta = project.toml()["project"]
    assert meta["name"] == answers["project_slug"]
    assert meta["description"] == answers["description"]
    assert meta["authors"] == [{"name": answers["author_name"], "email": answers["author_email"]}]
    assert meta["requires-python"] == f">={answers['python_version']}"
    assert project.has_file(f"src/{answers['package_name']}/py.typed")
    assert project.read("poetry.toml").count("in-project = true") == 1
    sources = project.toml()["tool"]["poetry"].get("source", [])
    if answers["package_index_url"]:
        assert sources == [{"name": "mirror", "url": answers["package_index_url"], "priority": "primary"}]
    else:
        assert sources == []


@pytest.mark.parametrize("name", OPTION_SETS)
def test_optional_files_follow_their_answers(rendered: dict[str, Project], name: str) -> None:
    answers = answers_for(OPTION_SETS[name])
    project = rendered[name]
    assert project.has_file(".github/workflows/release.yml") == answers["release_workflow"]
    assert project.has_file(".github/workflows/template-update.yml") == answers["template_update_workflow"]
    assert project.has_file("renovate.json") == (answers["update_bot"] == "renovate")
    assert project.has_file("LICENSE") == (answers["license"] == "MIT")


def conditional_files() -> dict[str, str]:
    """Each optional file of the tree, by its rendered path, with the condition its name holds."""
    found = {}
    for path in TREE.rglob("*"):
        relative = path.relative_to(TREE).as_posix()
        match = CONDITIONAL.search(relative)
        if path.is_file() and match:
            found[CONDITIONAL.sub(r"\2", relative)] = match[1]
    return found


def yes_no_questions_flipped() -> dict[str, dict[str, bool]]:
    """Every yes/no question that is always asked, answered against its default."""
    copier = yaml.safe_load((ROOT / "copier.yml").read_text())
    return {
        f"{name} flipped": {name: not spec["default"]}
        for name, spec in copier.items()
        if not name.startswith("_") and spec.get("type") == "bool" and "when" not in spec
    }


def test_each_optional_file_follows_its_answer_both_ways(rendered: dict[str, Project], bake_session: Bake) -> None:
    """Generic, so that a new yes/no question choosing a file needs no new test or option set:
    every option set and every yes/no question flipped, each optional file present exactly when
    its condition holds, and seen both present and absent."""
    cases = {name: (rendered[name], answers_for(given)) for name, given in OPTION_SETS.items()}
    for name, given in yes_no_questions_flipped().items():
        cases[name] = (bake_session(given), answers_for(given))
    files = conditional_files()
    assert len(files) >= 4, files
    for relative, condition in files.items():
        expression = jinja2.Environment().compile_expression(condition)
        seen = set()
        for name, (project, answers) in cases.items():
            expected = bool(expression(cookiecutter=answers))
            assert project.has_file(relative) == expected, f"{name}: {relative} ({condition})"
            seen.add(expected)
        assert seen == {True, False}, f"no case renders {relative} both with and without it"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_copier_alone_renders_the_same_tree_as_cookiecutter(
    rendered: dict[str, Project], tmp_path: Path, name: str
) -> None:
    """copier installed alone in its own virtualenv (no extension package, no --trust)."""
    copied = render("stock-copier", tmp_path / "copier", OPTION_SETS[name])
    recorded = copied.yaml(".copier-answers.yml")
    for key, value in answers_for(OPTION_SETS[name]).items():
        if key in recorded:
            assert recorded[key] == value, key
    # Both engines record the same answers; only where the template came from differs.
    ours = rendered[name].yaml(".copier-answers.yml")
    assert {k: v for k, v in ours.items() if not k.startswith("_")} == {
        k: v for k, v in recorded.items() if not k.startswith("_")
    }
    assert {"_src_path", "_commit"} <= set(ours)
    assert differences(rendered[name], copied) == []

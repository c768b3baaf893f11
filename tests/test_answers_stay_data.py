"""Answers are data in every engine: never rendered as templates, never reaching a workflow.

cookiecutter renders a value given on the command line, through the API or from stored answers
(cruft) as a Jinja template before anything else runs; cookiecutter_questions.py keeps them
literal and proves at start-up that this still holds, so a cookiecutter release that moves that
code stops generation instead of running an answer. copier and cruft take them literally too.
The template also renders from a relative path, as a platform engineer does inside a checkout.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2_ansible_filters.core_filters import to_nice_yaml
from support import BIN, ROOT, Bake, Project, render, run, tool_env

import cookiecutter_questions

PAYLOADS = [
    "{{ 7*7 }}",
    "{% raw %}{% endraw %}{{ cookiecutter.project_slug }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED_PATH').read() }}",
    "{{ self._TemplateReference__context }} {# comment #}",
    "{{ default_of('project_slug', cookiecutter) }}",
    "${{ secrets.GITHUB_TOKEN }} ${{ github.event.issue.title }}",
    "$(touch PWNED_PATH); `touch PWNED_PATH`; rm -rf / #",
    '""" \'\'\' \\ \\n \\" key: value - item # not a comment',
    "Ünïcødé 🚀 — O'Brien & Søn <ops@example.com>",
]
MARK = "FREE-TEXT-MARK"
FREE_TEXT_QUESTIONS = ("project_name", "description", "author_name")


def free_text_answers(project_name: str, description: str, author_name: str) -> dict[str, str]:
    # A fixed slug: the one derived from arbitrary text may be empty, and is tested elsewhere.
    return {
        "project_name": project_name,
        "description": description,
        "author_name": author_name,
        "project_slug": "free-text-project",
        "license": "MIT",
    }


def rendered_free_text(project: Project) -> dict[str, str]:
    """Where each free-text answer lands, read back through the file's own format."""
    metadata = project.toml()["project"]
    readme = project.read("README.md").splitlines()
    license_lines = project.read("LICENSE").splitlines()
    found = {
        "description": metadata["description"],
        "author_name": metadata["authors"][0]["name"],
        "project_name (README)": next(line for line in readme if line.startswith("# "))[2:],
        "author_name (LICENSE)": next(line for line in license_lines if line.startswith("Copyright (c) "))[14:],
    }
    answers = project.yaml(".copier-answers.yml")
    return {**found, **{f"{key} (answers)": answers[key] for key in FREE_TEXT_QUESTIONS}}


def expected_free_text(values: dict[str, str]) -> dict[str, str]:
    """Every engine writes the answers file too, so the text is read back from there as well."""
    return {
        "description": values["description"],
        "author_name": values["author_name"],
        "project_name (README)": values["project_name"],
        "author_name (LICENSE)": values["author_name"],
        **{f"{key} (answers)": values[key] for key in FREE_TEXT_QUESTIONS},
    }


def assert_not_in_workflows_or_run_lines(project: Project, text: str) -> None:
    for relative, content in project.files().items():
        decoded = content.decode("utf-8")
        if relative.startswith(".github/"):
            assert text not in decoded, f"free text reached {relative}"
        for line in decoded.splitlines():
            assert not (text in line and re.match(r"\s*(- )?run:", line)), (
                f"free text reached a run: line in {relative}"
            )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_free_text_is_literal_for_cookiecutter_and_copier_and_never_reaches_a_workflow(
    payload: str, bake: Bake, tmp_path: Path
) -> None:
    text = payload.replace("PWNED_PATH", str(tmp_path / "pwned"))
    values = free_text_answers(f"{MARK} name {text}", f"{MARK} description {text}", f"{MARK} author {text}")
    for project in (bake(values), render("copier", tmp_path / "copier", values)):
        assert rendered_free_text(project) == expected_free_text(values), project.engine
        assert_not_in_workflows_or_run_lines(project, MARK)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_cruft_takes_free_text_literally_and_rejects_bad_answers(tmp_path: Path) -> None:
    """cruft prompts and renders through cookiecutter and stores the answers in .cruft.json."""
    env = tool_env(tmp_path / "home")
    template = tmp_path / "template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv*", "node_modules", "generated"))
    run(["git", "init", "-q", "-b", "main"], template, env)
    run(["git", "add", "-A"], template, env)
    run(["git", "commit", "-q", "-m", "template"], template, env)
    cruft = [str(BIN / "cruft"), "create", str(template), "--no-input"]
    text = PAYLOADS[2].replace("PWNED_PATH", str(tmp_path / "pwned")) + " " + PAYLOADS[5]
    values = free_text_answers(f"{MARK} {text}", f"{MARK} {text}", f"{MARK} {text}")
    run([*cruft, "--output-dir", str(tmp_path / "ok"), "--extra-context", json.dumps(values)], tmp_path, env)
    project = Project(tmp_path / "ok" / "free-text-project", "cruft")
    stored = project.json(".cruft.json")["context"]["cookiecutter"]
    assert {key: stored[key] for key in values} == values
    assert rendered_free_text(project) == expected_free_text(values)
    assert not (tmp_path / "pwned").exists()

    bad = {"project_slug": "a/b", "github_org": "acme..corp"}
    result = run(
        [*cruft, "--output-dir", str(tmp_path / "bad"), "--extra-context", json.dumps(bad)], tmp_path, env, check=False
    )
    assert result.returncode != 0
    assert "project_slug = 'a/b': use only a-z, 0-9 and hyphens" in result.stdout + result.stderr
    assert "github_org = 'acme..corp': use only letters, digits and -" in result.stdout + result.stderr
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


# Printable text as the rules define it (no control, format or separator characters except the
# space), mixed with the fragments that matter to Jinja, TOML, YAML, shells and Actions.
PRINTABLE = st.characters(exclude_categories=["C", "Z"], include_characters=" ")
FRAGMENTS = st.sampled_from(
    [
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "${{",
        "$(",
        "`",
        '"',
        "'",
        '"""',
        "\\",
        ": ",
        "- ",
        "#",
        "&",
        "*",
        "!",
        "|",
        ">",
        "%",
        "@",
        "{{ 7*7 }}",
        "{% raw %}",
        "{% endraw %}",
        "null",
        "true",
        "0x10",
        "~",
        "[",
        "]",
        ",",
        "é",
    ]
)
FREE_TEXT = st.lists(st.one_of(st.text(PRINTABLE, max_size=12), FRAGMENTS), max_size=12).map("".join)
NON_BLANK_FREE_TEXT = FREE_TEXT.filter(lambda text: text.strip() != "")


def examples(count: int) -> settings:
    return settings(
        max_examples=count, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


@examples(300)
@given(FREE_TEXT)
def test_free_text_round_trips_through_copiers_answers_file_format(value: str) -> None:
    assert yaml.safe_load(to_nice_yaml({"project_name": value})) == {"project_name": value}


@examples(12)
@given(project_name=NON_BLANK_FREE_TEXT, description=FREE_TEXT, author_name=NON_BLANK_FREE_TEXT)
def test_any_printable_free_text_renders_literally_with_both_engines(
    bake_session: Bake, project_name: str, description: str, author_name: str
) -> None:
    values = free_text_answers(project_name, description, author_name)
    with tempfile.TemporaryDirectory() as directory:
        for project in (bake_session(values), render("copier", Path(directory) / "copier", values)):
            assert rendered_free_text(project) == expected_free_text(values), project.engine


def test_generation_stops_when_cookiecutter_no_longer_renders_answers_where_expected(
    monkeypatch: pytest.MonkeyPatch, bake: Bake
) -> None:
    """Fail closed: a cookiecutter whose prompt renders answers from another module would run an
    answer as a template; the start-up proof notices and stops before any answer is rendered."""
    import cookiecutter.prompt

    original = cookiecutter.prompt.render_variable

    def render_variable_elsewhere(env: Any, raw: Any, answers: dict[str, Any]) -> Any:
        if isinstance(raw, str):
            return env.from_string(raw).render(cookiecutter=answers)
        return original(env, raw, answers)

    monkeypatch.setattr(cookiecutter.prompt, "render_variable", render_variable_elsewhere)
    cookiecutter_questions.prove_answers_stay_data.cache_clear()
    try:
        with pytest.raises(Exception, match="cannot keep as data") as stopped:
            bake({"description": "{{ 7*7 }}"})
        assert "Unable to load extension" in str(stopped.value)
        assert bake.written() == []
    finally:
        monkeypatch.undo()
        cookiecutter_questions.prove_answers_stay_data.cache_clear()


def test_cookiecutter_reports_the_stop_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    """The same stop through the CLI: cookiecutter prints extension failures as one line."""
    probe = tmp_path / "sitecustomize.py"
    probe.write_text(
        "import cookiecutter.prompt\n"
        "def render_variable(env, raw, answers):\n"
        "    return env.from_string(raw).render(cookiecutter=answers) if isinstance(raw, str) else raw\n"
        "cookiecutter.prompt.render_variable = render_variable\n"
    )
    env = {**tool_env(tmp_path / "home"), "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "cannot keep as data" in result.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("how", ["cookiecutter .", "cookiecutter ./template"])
def test_cookiecutter_renders_from_a_relative_path(how: str, tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv*", "node_modules", "generated"))
    cwd, argument = (template, ".") if how == "cookiecutter ." else (tmp_path, "./template")
    result = subprocess.run(
        [str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), argument],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=tool_env(tmp_path / "home"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "example-service" / "pyproject.toml").is_file()
    assert (tmp_path / "out" / "example-service" / "README.md").read_text().startswith("# Example Service")


def test_the_start_up_proof_runs_once_per_process() -> None:
    """It costs an extra prompt pass; every later environment reuses the verdict."""
    cookiecutter_questions.prove_answers_stay_data()
    before = cookiecutter_questions.prove_answers_stay_data.cache_info().hits
    cookiecutter_questions.prove_answers_stay_data()
    assert cookiecutter_questions.prove_answers_stay_data.cache_info().hits == before + 1

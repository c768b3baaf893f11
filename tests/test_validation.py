"""Bad answers: both engines reject them non-interactively with the same message and leave nothing
behind. Free text: taken literally by cookiecutter, copier and cruft, and back unchanged from every
file it reaches, never a workflow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from conftest import ROOT, answers_for, template_rules, tree_files
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from jinja2_ansible_filters.core_filters import to_nice_yaml

from template_rules import CROSS_RULES, answer_error, validate


def examples(count: int) -> settings:
    """Reproducible in CI: no example database, the same examples on every run."""
    return settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# (question, bad value, what the message must say). Each is tried with both engines.
BAD_ANSWERS: list[tuple[str, str, str]] = [
    ("project_slug", "Billing-Service", "lowercase letters"),
    ("project_slug", "billing_service", "lowercase letters, digits and single hyphens"),
    ("project_slug", "1billing", "starting with a letter"),
    ("project_slug", "a" * 101, "longer than 100 characters"),
    ("project_slug", "billing--service", "single hyphens"),
    ("project_slug", "billing-", "not ending with a hyphen"),
    ("project_slug", "a/b", "lowercase letters"),
    ("project_slug", "../escape", "lowercase letters"),
    ("project_slug", ".", "lowercase letters"),
    ("project_slug", "", "lowercase letters"),
    ("package_name", "class", "Python keyword"),
    ("package_name", "match", "Python keyword"),
    ("package_name", "json", "shadow the standard-library module"),
    ("package_name", "asyncio", "shadow the standard-library module"),
    ("package_name", "distutils", "shadow the standard-library module"),
    ("package_name", "Billing", "lowercase letters, digits and underscores"),
    ("package_name", "my-pkg", "lowercase letters, digits and underscores"),
    ("package_name", "1pkg", "starting with a letter or underscore"),
    ("project_name", "", "it is empty"),
    ("project_name", "   ", "it is empty"),
    ("project_name", "two\nlines", "non-printable character '\\n'"),
    ("description", "tab\there", "non-printable character '\\t'"),
    ("author_name", "bidi\u202eoverride", "non-printable character '\\u202e'"),
    ("author_email", "not-an-email", "name@example.com"),
    ("author_email", "a@b", "name@example.com"),
    ("author_email", "a b@example.com", "name@example.com"),
    ("author_email", "Name <a@example.com>", "name@example.com"),
    ("author_email", 'a"@example.com', "name@example.com"),
    ("github_host", "https://github.com", "without scheme, path or credentials"),
    ("github_host", "github.com/org", "without scheme, path or credentials"),
    ("github_host", "token@github.com", "without scheme, path or credentials"),
    ("github_host", "github.com:0", "number from 1 to 65535"),
    ("github_host", "github.com:65536", "number from 1 to 65535"),
    ("github_host", "github.com:ssh", "number from 1 to 65535"),
    ("github_host", "git hub.com", "not a host name"),
    ("github_host", "-github.com", "not a host name"),
    ("github_org", "acme..corp", "single hyphens"),
    ("github_org", "acme/corp", "single hyphens"),
    ("github_org", "acme corp", "single hyphens"),
    ("github_org", "-acme", "not at either end"),
    ("github_org", "a" * 40, "up to 39"),
    ("private_dependencies", "core-lib", "entry 'core-lib' has no '@ref'"),
    ("private_dependencies", "core-lib@", "the ref after '@' is empty"),
    ("private_dependencies", "core-lib@v1..2", "contains '..'"),
    ("private_dependencies", "core-lib@v1~1", "one of ~ ^ :"),
    ("private_dependencies", "core-lib@v1^{}", "one of ~ ^ :"),
    ("private_dependencies", "core-lib@a:b", "one of ~ ^ :"),
    ("private_dependencies", "core-lib@main.lock", "ends with '.lock'"),
    ("private_dependencies", "core-lib@-rf", "starts with '-'"),
    ("private_dependencies", "core-lib@v1, other/Core_Lib@v2", "name the same package 'core-lib'"),
    ("private_dependencies", "ok@v1, bad..org/core-lib@v1", "the organization 'bad..org' is not valid"),
    ("private_dependencies", "org/core lib@v1", "the repository 'core lib' is not valid"),
    ("private_dependencies", "org/core-lib.git@v1", "no '..' or '.git' suffix"),
    ("private_dependencies", "a/b/c@v1", "the organization 'a/b' is not valid"),
    ("token_secret_name", "1TOKEN", "do not start with a digit"),
    ("token_secret_name", "GITHUB_TOKEN", "must not start with GITHUB_"),
    ("token_secret_name", "github_pat", "must not start with GITHUB_"),
    ("token_secret_name", "MY-TOKEN", "only letters, digits and underscores"),
    ("poetry_version", "1.8.0", "Poetry 2 releases"),
    ("poetry_version", "3.0.0", "Poetry 2 releases"),
    ("poetry_version", "latest", "Poetry 2 releases"),
    ("poetry_version", "2.1", "2.MINOR.PATCH"),
    ("package_index_url", "http://mirror.example.com/simple", "https:// URL"),
    ("package_index_url", "https://user:secret@mirror.example.com/simple", "must not contain credentials"),
    ("package_index_url", "https://token@mirror.example.com/simple", "must not contain credentials"),
    ("package_index_url", "https://mirror.example.com/simple?token=x", "without query or fragment"),
]

# Questions with choices: each engine checks the choice itself before any template code runs,
# each in its own words, naming the question, the value and the choices.
BAD_CHOICES: list[tuple[str, str]] = [
    ("python_version", "3.9"),
    ("python_version", "3.10"),
    ("python_version", "3.15"),
    ("git_auth", "password"),
    ("license", "GPL"),
    ("update_bot", "snyk"),
]


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Replay and clone directories of the test run, not of the user."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(yaml.safe_dump({"cookiecutters_dir": str(home / "c"), "replay_dir": str(home / "r")}))
    return str(config)


@pytest.fixture(scope="session")
def copier_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as a plain directory: from a git working tree with changes copier clones and
    commits on every run, which would triple the cost of each rejected answer."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "generated", "tests", "docs", ".*cache", "__pycache__", ".hypothesis"
    )
    return Path(shutil.copytree(ROOT, tmp_path_factory.mktemp("copier") / "template", ignore=skip))


def cookiecutter_output(output_dir: Path, overrides: dict[str, Any], config: str) -> Path:
    return Path(
        cookiecutter(str(ROOT), no_input=True, extra_context=overrides, output_dir=str(output_dir), config_file=config)
    )


def copier_output(template: Path, destination: Path, overrides: dict[str, Any]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(str(template), str(destination), data=overrides, defaults=True, unsafe=True, quiet=True)
    return destination


def assert_nothing_left(path: Path) -> None:
    assert not path.exists() or not any(path.iterdir()), sorted(p.name for p in path.iterdir())


def assert_both_engines_reject(
    overrides: dict[str, Any],
    name: str,
    message: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    cookiecutter_config: str,
    copier_template: Path,
) -> None:
    """cookiecutter's hook and copier's validator stop with `message` for `name`, writing nothing."""
    output = tmp_path / "cookiecutter"
    with pytest.raises(FailedHookException):
        cookiecutter_output(output, overrides, cookiecutter_config)
    assert message in capfd.readouterr().err.splitlines()
    assert_nothing_left(output)

    destination = tmp_path / "copier"
    with pytest.raises(ValueError, match=r"^Validation error for question") as rejected:
        copier_output(copier_template, destination, overrides)
    assert str(rejected.value) == f"Validation error for question {name!r}: {message}"
    assert_nothing_left(destination)


@pytest.mark.parametrize(("name", "value", "reason"), BAD_ANSWERS, ids=[f"{n}={v!r}"[:60] for n, v, _ in BAD_ANSWERS])
def test_both_engines_reject_a_bad_answer_with_the_same_message_and_leave_nothing(
    name: str,
    value: str,
    reason: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    cookiecutter_config: str,
    copier_template: Path,
) -> None:
    message = answer_error(name, value)
    assert reason in message
    assert message.startswith(f"{name}: {value!r} is not valid: ") and "Example of a good value: " in message

    assert_both_engines_reject({name: value}, name, message, tmp_path, capfd, cookiecutter_config, copier_template)


# Answers that are each valid but contradict an earlier answer; the later question is named.
BAD_COMBINATIONS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"git_auth": "github-app", "private_dependencies": "core-lib@v1.0.0, other-org/tools@v2.0.0"},
        "git_auth",
        "reaches only the repositories of github_org 'example-org', not other-org/tools",
    ),
    (
        {"package_index_credentials": True, "package_index_url": ""},
        "package_index_credentials",
        "set package_index_url too",
    ),
]


@pytest.mark.parametrize(("overrides", "name", "reason"), BAD_COMBINATIONS, ids=[c[1] for c in BAD_COMBINATIONS])
def test_both_engines_reject_answers_that_contradict_each_other(
    overrides: dict[str, Any],
    name: str,
    reason: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    cookiecutter_config: str,
    copier_template: Path,
) -> None:
    answers = answers_for(overrides)
    others = {other: answers[other] for other in CROSS_RULES[name][0]}
    message = answer_error(name, answers[name], **others)
    assert reason in message and message.startswith(f"{name}: ")
    assert validate(answers) == [message]

    assert_both_engines_reject(overrides, name, message, tmp_path, capfd, cookiecutter_config, copier_template)


@pytest.mark.parametrize(("name", "value"), BAD_CHOICES)
def test_both_engines_reject_a_value_outside_the_choices(
    name: str, value: str, tmp_path: Path, cookiecutter_config: str, copier_template: Path
) -> None:
    choices = next(q.choices for q in template_rules.QUESTIONS if q.name == name)
    output = tmp_path / "cookiecutter"
    with pytest.raises(ValueError) as cookiecutter_rejected:
        cookiecutter_output(output, {name: value}, cookiecutter_config)
    destination = tmp_path / "copier"
    with pytest.raises(ValueError) as copier_rejected:
        copier_output(copier_template, destination, {name: value})
    for rejected in (cookiecutter_rejected, copier_rejected):
        text = str(rejected.value)
        assert name in text and value in text and all(choice in text for choice in choices), text
    assert_nothing_left(output)
    assert_nothing_left(destination)


# --- free text ---------------------------------------------------------------------------

PAYLOADS = [
    "{{ 7*7 }}",
    "{% raw %}{% endraw %}{{ cookiecutter.project_slug }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED_PATH').read() }}",
    "{{ self._TemplateReference__context }} {# comment #}",
    "${{ secrets.GITHUB_TOKEN }} ${{ github.event.issue.title }}",
    "$(touch PWNED_PATH); `touch PWNED_PATH`; rm -rf / #",
    '""" \'\'\' \\ \\n \\" key: value - item # not a comment',
    "Ünïcødé 🚀 — O'Brien & Søn <ops@example.com>",
]
MARK = "FREE-TEXT-MARK"


def rendered_free_text(project: Path) -> dict[str, str]:
    """Where each free-text answer lands, read back through the file's own format."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    readme = (project / "README.md").read_text(encoding="utf-8").splitlines()
    license_lines = (project / "LICENSE").read_text(encoding="utf-8").splitlines()
    found = {
        "description": pyproject["description"],
        "author_name": pyproject["authors"][0]["name"],
        "project_name (README)": next(line for line in readme if line.startswith("# "))[2:],
        "author_name (LICENSE)": next(line for line in license_lines if line.startswith("Copyright (c) "))[14:],
    }
    answers_file = project / ".copier-answers.yml"
    if answers_file.exists():
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
        found.update({f"{key} (answers)": answers[key] for key in template_rules.FREE_TEXT_QUESTIONS})
    return found


def expected_free_text(values: dict[str, str], answers_file: bool) -> dict[str, str]:
    expected = {
        "description": values["description"],
        "author_name": values["author_name"],
        "project_name (README)": values["project_name"],
        "author_name (LICENSE)": values["author_name"],
    }
    if answers_file:
        expected.update({f"{key} (answers)": values[key] for key in template_rules.FREE_TEXT_QUESTIONS})
    return expected


def free_text_answers(project_name: str, description: str, author_name: str) -> dict[str, str]:
    # A fixed slug: the one derived from arbitrary text may be empty, and is tested elsewhere.
    return {
        "project_name": project_name,
        "description": description,
        "author_name": author_name,
        "project_slug": "free-text-project",
        "license": "MIT",
    }


def assert_not_in_workflows_or_run_lines(project: Path, text: str) -> None:
    for relative, content in tree_files(project).items():
        decoded = content.decode("utf-8")
        if relative.startswith(".github/"):
            assert text not in decoded, f"free text reached {relative}"
        for line in decoded.splitlines():
            assert not (text in line and re.match(r"\s*(- )?run:", line)), (
                f"free text reached a run: line in {relative}"
            )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_free_text_is_literal_for_cookiecutter_copier_and_never_reaches_a_workflow(
    payload: str, tmp_path: Path, cookiecutter_config: str, copier_template: Path
) -> None:
    text = payload.replace("PWNED_PATH", str(tmp_path / "pwned"))
    values = free_text_answers(f"{MARK} name {text}", f"{MARK} description {text}", f"{MARK} author {text}")
    assert all(answer_error(key, value) == "" for key, value in values.items())
    projects = {
        "cookiecutter": cookiecutter_output(tmp_path / "cookiecutter", values, cookiecutter_config),
        "copier": copier_output(copier_template, tmp_path / "copier", values),
    }
    for engine, project in projects.items():
        assert rendered_free_text(project) == expected_free_text(values, engine == "copier"), engine
        assert_not_in_workflows_or_run_lines(project, MARK)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_cruft_takes_free_text_literally_and_rejects_bad_answers(tmp_path: Path, copier_template: Path) -> None:
    """cruft prompts and renders through cookiecutter and stores the answers in .cruft.json."""
    template = tmp_path / "template"
    shutil.copytree(copier_template, template)
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=template, check=True)
    subprocess.run([*git, "add", "-A"], cwd=template, check=True)
    subprocess.run([*git, "commit", "-qm", "template"], cwd=template, check=True)
    cruft = [str(Path(sys.executable).parent / "cruft"), "create", str(template), "--no-input"]
    text = PAYLOADS[2].replace("PWNED_PATH", str(tmp_path / "pwned")) + " " + PAYLOADS[4]
    values = free_text_answers(f"{MARK} {text}", f"{MARK} {text}", f"{MARK} {text}")
    subprocess.run([*cruft, "--output-dir", str(tmp_path / "ok"), "--extra-context", json.dumps(values)], check=True)
    project = tmp_path / "ok" / "free-text-project"
    stored = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert {key: stored[key] for key in values} == values
    assert rendered_free_text(project) == expected_free_text(values, answers_file=False)
    assert not (tmp_path / "pwned").exists()

    bad = {"project_slug": "a/b", "github_org": "acme..corp"}
    result = subprocess.run(
        [*cruft, "--output-dir", str(tmp_path / "bad"), "--extra-context", json.dumps(bad)],
        capture_output=True,
        text=True,
    )
    assert answer_error("project_slug", "a/b") in result.stderr.splitlines()
    assert answer_error("github_org", "acme..corp") in result.stderr.splitlines()
    assert_nothing_left(tmp_path / "bad")


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
        "\u00e9",
    ]
)
FREE_TEXT = st.lists(st.one_of(st.text(PRINTABLE, max_size=12), FRAGMENTS), max_size=12).map("".join)
NON_BLANK_FREE_TEXT = FREE_TEXT.filter(lambda text: text.strip() != "")


HOOK_ANSWERS_LINE = Environment().from_string(
    next(
        line
        for line in (ROOT / "hooks" / "pre_gen_project.py").read_text().splitlines()
        if line.startswith("ANSWERS = ")
    )
)


@examples(500)
@given(FREE_TEXT)
def test_free_text_reaches_the_hook_as_data(value: str) -> None:
    """The pre-generation hook's answers line, rendered and run, gives back the exact text."""
    source = HOOK_ANSWERS_LINE.render(cookiecutter={"project_name": value})
    namespace: dict[str, Any] = {"json": json}
    exec(source, namespace)
    assert namespace["ANSWERS"] == {"project_name": value}


@examples(500)
@given(FREE_TEXT)
def test_free_text_round_trips_through_copiers_answers_file_format(value: str) -> None:
    assert yaml.safe_load(to_nice_yaml({"project_name": value})) == {"project_name": value}


@examples(12)
@given(project_name=NON_BLANK_FREE_TEXT, description=FREE_TEXT, author_name=NON_BLANK_FREE_TEXT)
def test_any_printable_free_text_renders_literally_with_both_engines(
    project_name: str, description: str, author_name: str, cookiecutter_config: str, copier_template: Path
) -> None:
    values = free_text_answers(project_name, description, author_name)
    assume(all(answer_error(key, value) == "" for key, value in values.items()))
    with tempfile.TemporaryDirectory() as directory:
        projects = {
            "cookiecutter": cookiecutter_output(Path(directory) / "cookiecutter", values, cookiecutter_config),
            "copier": copier_output(copier_template, Path(directory) / "copier", values),
        }
        for engine, project in projects.items():
            assert rendered_free_text(project) == expected_free_text(values, engine == "copier"), engine


# --- generated invalid values --------------------------------------------------------------

GOOD_SLUG = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
GOOD_SECRET = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
    lambda name: not name.upper().startswith("GITHUB_")
)
GOOD_ORG = st.from_regex(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,2}", fullmatch=True)


@st.composite
def broken(draw: st.DrawFn, good: st.SearchStrategy[str], breakers: list[str], prefixes: list[str]) -> str:
    """A good value with one rule broken: a bad character inside, or a bad start."""
    value = draw(good)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from(breakers)) + value[at:]
    return draw(st.sampled_from(prefixes)) + value


BAD_CHARACTERS = [" ", "\t", "\n", "/", "\\", "..", "@", ":", "{", "$", "'", '"', ";", "é", "\x00"]


@examples(300)
@given(
    st.one_of(
        broken(GOOD_SLUG, [*BAD_CHARACTERS, "A", "Z", "_", ".", "--"], ["1", "-", "_", "A"]),
        GOOD_SLUG.map(lambda slug: slug + "-"),
        GOOD_SLUG.map(lambda slug: (slug + "x") * (101 // (len(slug) + 1) + 1)),
    )
)
def test_generated_bad_slugs_are_rejected(value: str) -> None:
    assert answer_error("project_slug", value)


@examples(300)
@given(
    st.one_of(
        broken(GOOD_SECRET, [*BAD_CHARACTERS, "-", ".", "+"], ["0", "9", "GITHUB_", "github_", "GitHub_"]),
        GOOD_SECRET.map(lambda name: "GITHUB_" + name),
    )
)
def test_generated_bad_secret_names_are_rejected(value: str) -> None:
    assert answer_error("token_secret_name", value)


@examples(200)
@given(
    st.one_of(
        broken(GOOD_ORG, [*BAD_CHARACTERS, "--", "_", "."], ["-", "."]),
        GOOD_ORG.map(lambda org: org + "-"),
        GOOD_ORG.map(lambda org: org + "x" * 40),
    )
)
def test_generated_bad_organizations_are_rejected(value: str) -> None:
    assert answer_error("github_org", value)
    # In a dependency entry, surrounding spaces are trimmed and ',' and '@' are syntax.
    if value == value.strip() and not {",", "@"} & set(value):
        assert answer_error("private_dependencies", f"{value}/core-lib@v1")


@examples(200)
@given(
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}", fullmatch=True),
    st.sampled_from(["https://", "http://", "ssh://", "user@", "user:pw@", "x/", ""]),
    st.sampled_from(["", "/org", "/", ":0", ":65536", ":99999", ":-1", ":", ":ssh", " ", "?x", "#x"]),
)
def test_generated_bad_hosts_are_rejected(host: str, before: str, after: str) -> None:
    assume(before or after)
    assert answer_error("github_host", before + host + after)


REF_TEXT = st.text(
    st.one_of(st.sampled_from(list("ab1/.-@{}~^:?*[\\ \t_,")), st.characters(min_codepoint=0, max_codepoint=0x7F)),
    min_size=1,
    max_size=10,
)


def git_accepts(ref: str) -> bool:
    # Branch and tag names: check-ref-format's rules, and git refuses a leading '-' for both.
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", ref], capture_output=True)
    return result.returncode == 0 and not ref.startswith("-")


@examples(300)
@given(REF_TEXT)
def test_ref_rule_agrees_with_git_check_ref_format(ref: str) -> None:
    # ',' separates entries and surrounding spaces are trimmed, so neither can reach a ref;
    # git cannot receive NUL as an argument.
    assume("," not in ref and ref == ref.strip() and "\x00" not in ref)
    accepted = answer_error("private_dependencies", f"lib@{ref}") == ""
    assert accepted == git_accepts(ref), ref

"""The shared rules module on its own: each rule, the dependency parser and the derived names."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from conftest import ROOT, template_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from template_rules import answer_error, parse_private_dependencies, poetry_repository_names, toml_string


def examples(count: int) -> settings:
    """Reproducible in CI: no example database, the same examples on every run."""
    return settings(
        max_examples=count, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


GOOD = {
    "project_name": ["Billing Service", "x", "Ünïcødé — ${{ github.token }} {{ 7*7 }} $(id) `id` 'quotes' \"dq\" \\"],
    "project_slug": ["billing-service", "a", "a1-b2", "a" * 100],
    "package_name": ["billing_service", "a", "_private", "pkg2", "billing__x"],
    "description": ["", "Computes invoices.", "{% raw %}{% endraw %}", "#!/bin/sh; rm -rf /"],
    "author_name": ["Platform Team", 'O\'Brien "Ops"'],
    "author_email": ["platform@example.com", "first.last+tag@mail.example.co.uk", "a_b%c-d@x-y.io"],
    "github_host": [
        "github.com",
        "github.example.com",
        "git.example.internal:8443",
        "localhost",
        "127.0.0.1:1",
        "h:65535",
    ],
    "github_org": ["acme-corp", "a", "A1", "a" * 39, "a-b-c"],
    "private_dependencies": [
        "",
        "core-lib@v1.2.0",
        "core-lib@v1.2.0, other-org/tools@main",
        "x@0123456789abcdef0123456789abcdef01234567",
        "data_tools@release/2.x",
        "a.b@feature/x-y_z",
        "lib@v1@2",
        "lib@ünï",
        "lib@a.lock.b",
        "a@x,",
        " a@x , b@y ",
    ],
    "git_auth": list(template_rules.GIT_AUTH_MODES),
    "token_secret_name": ["POETRY_GIT_TOKEN", "_x", "a1", "GITHUBTOKEN", "MY_GITHUB_TOKEN"],
    "python_version": list(template_rules.SUPPORTED_PYTHONS),
    "poetry_version": ["2.0.0", "2.5.1", "2.10.0", "2.1.12"],
    "package_index_url": ["", "https://nexus.example.com/repository/pypi/simple", "https://m.example.com:8443/simple/"],
    "package_index_credentials": [True, False, "yes", "no", "true", "0"],
    "license": list(template_rules.LICENSES),
    "release_workflow": [True, False],
    "update_bot": list(template_rules.UPDATE_BOTS),
    "template_update_workflow": [True, False],
}

BAD = {
    "project_name": ["", "   ", "tab\there", "two\nlines", "nul\x00", "bidi\u202e", "nbsp\xa0"],
    "project_slug": [
        "Billing",
        "billing_service",
        "1billing",
        "a" * 101,
        "billing--x",
        "billing-",
        "-billing",
        "a/b",
        ".",
        "",
    ],
    "package_name": [
        "class",
        "match",
        "json",
        "os",
        "distutils",
        "annotationlib",
        "Billing",
        "1pkg",
        "my-pkg",
        "my.pkg",
        "_",
    ],
    "description": ["two\nlines", "bell\x07"],
    "author_name": ["", "cr\r"],
    "author_email": [
        "not-an-email",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example.c0m",
        "Name <a@example.com>",
        "a@example..com",
        'a"@example.com',
    ],
    "github_host": [
        "https://github.com",
        "github.com/org",
        "user@github.com",
        "github.com:0",
        "github.com:65536",
        "github.com:port",
        "github.com:",
        "git hub.com",
        "-github.com",
        "github..com",
        "github.com:08443",
        "github.com:²",
        "github.com.",
        "",
    ],
    "github_org": ["acme..corp", "acme/corp", "acme corp", "-acme", "acme-", "a" * 40, "acme_corp", "acme--corp", ""],
    "private_dependencies": [
        "core-lib",
        "core-lib@",
        "core-lib@v1..2",
        "core-lib@v1~1",
        "core-lib@v1^",
        "core-lib@a:b",
        "core-lib@main.lock",
        "core-lib@release/.hidden",
        "core-lib@-rf",
        "core-lib@v1, core-lib@v2",
        "core-lib@v1, Core_Lib@v2",
        "bad..org/core-lib@v1",
        "-org/core-lib@v1",
        "org/core lib@v1",
        "org/core-lib.git@v1",
        "a/b/c@v1",
        "core-lib@feature//x",
        "core-lib@v1.",
        "core-lib@x@{-1}",
        "core-lib@@",
        "core-lib@a*b",
        "core-lib@a?b",
        "core-lib@a[b",
        "core-lib@a\\b",
        "core-lib@a\x7fb",
        "../core-lib@v1",
        "core-lib@/x",
    ],
    "git_auth": ["password", ""],
    "token_secret_name": ["1TOKEN", "GITHUB_TOKEN", "github_token", "MY-TOKEN", "MY TOKEN", "", "TOKEN$"],
    "python_version": ["3.9", "3.10", "3.15", "2.7", "3"],
    "poetry_version": ["1.8.0", "3.0.0", "latest", "2.1", "2.01.0", "v2.1.0", ">=2.0", "2.1.0b1", ""],
    "package_index_url": [
        "http://mirror.example.com/simple",
        "https://user:pass@mirror.example.com/simple",
        "https://token@mirror.example.com/simple",
        "ftp://mirror.example.com",
        "mirror.example.com/simple",
        "https://mirror.example.com/simple?x=1",
        "https://mirror.example.com/simple#x",
        "https://[broken/simple",
        "https://mirror.example.com/a b",
        "https://",
    ],
    "package_index_credentials": ["maybe"],
    "license": ["GPL", "mit"],
    "release_workflow": ["sometimes"],
    "update_bot": ["snyk"],
    "template_update_workflow": ["2"],
}


def test_every_question_has_a_rule_an_example_and_test_values() -> None:
    names = set(template_rules.QUESTION_NAMES)
    assert set(template_rules.RULES) == names == set(GOOD) == set(BAD)
    for question in template_rules.QUESTIONS:
        assert question.example, question.name
        assert answer_error(question.name, question.example if not isinstance(question.default, bool) else True) == ""
        if not question.derived_from:
            assert answer_error(question.name, question.default) == "", question.name


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in GOOD.items() for v in values])
def test_good_values_pass(name: str, value: object) -> None:
    assert answer_error(name, value) == ""


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in BAD.items() for v in values])
def test_bad_values_get_a_message_naming_question_value_and_example(name: str, value: object) -> None:
    message = answer_error(name, value)
    assert message.startswith(f"{name}: {str(value)!r} is not valid: ")
    assert message.endswith(f". Example of a good value: {template_rules.EXAMPLES[name]!r}")


def test_validate_reports_every_bad_answer_in_question_order() -> None:
    answers = {q.name: q.example if not isinstance(q.default, bool) else q.default for q in template_rules.QUESTIONS}
    assert template_rules.validate(answers) == []
    answers.update(github_org="-x", project_slug="X")
    assert [m.split(":")[0] for m in template_rules.validate(answers)] == ["project_slug", "github_org"]


def test_dependency_messages_name_the_bad_entry_and_the_duplicate() -> None:
    assert "entry 'other/bad lib@v1'" in answer_error("private_dependencies", "ok@v1, other/bad lib@v1")
    message = answer_error("private_dependencies", "core-lib@v1, x/Core.Lib@v2")
    assert "'core-lib@v1' and 'x/Core.Lib@v2' name the same package 'core-lib'" in message


def test_parse_private_dependencies() -> None:
    deps = parse_private_dependencies(
        " core-lib@v1.2.0, other-org/Data_Tools@release/2.x,, pinned@0123abc ", "acme", "git.example.com:8443"
    )
    assert [(d.org, d.repo, d.ref, d.name) for d in deps] == [
        ("acme", "core-lib", "v1.2.0", "core-lib"),
        ("other-org", "Data_Tools", "release/2.x", "data-tools"),
        ("acme", "pinned", "0123abc", "pinned"),
    ]
    assert deps[1].url == "https://git.example.com:8443/other-org/Data_Tools.git"
    assert parse_private_dependencies("", "acme", "github.com") == []
    # Only the first '@' separates the repository from the ref.
    assert parse_private_dependencies("lib@a@b", "acme", "github.com")[0].ref == "a@b"


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("0123456789abcdef0123456789abcdef01234567", "rev"),
        ("0123abc", "rev"),
        ("deadbeef", "rev"),
        ("v1.2.0", "tag"),
        ("1.4", "tag"),
        ("v2.0.0-rc.1", "tag"),
        ("1.0.0.post1", "tag"),
        ("v3", "tag"),
        ("main", "branch"),
        ("release/2.x", "branch"),
        ("v1/next", "branch"),
        ("012345", "tag"),
        ("0123ABC", "tag"),
        ("feature-1.2", "branch"),
    ],
)
def test_ref_kind(ref: str, kind: str) -> None:
    assert parse_private_dependencies(f"lib@{ref}", "acme", "github.com")[0].ref_kind == kind


def test_ref_kind_does_not_backtrack_on_long_near_misses() -> None:
    # The old version-tag pattern took seconds on this (exponential backtracking).
    dep = parse_private_dependencies("lib@1" + "a" * 5000 + "/", "acme", "github.com")[0]
    assert dep.ref_kind == "branch"


@pytest.mark.parametrize("count", [0, 1, 2, 25, 26, 27, 52, 53, 702, 703, 2000])
def test_poetry_repository_names_are_unique_uppercase_letters(count: int) -> None:
    deps = parse_private_dependencies(", ".join(f"lib{i}@v1" for i in range(count)), "acme", "github.com")
    names = poetry_repository_names(deps)
    assert len(names) == len(set(names)) == count
    # Poetry reads POETRY_REPOSITORIES_<NAME>_URL only for names without digits.
    assert all(re.fullmatch(r"[A-Z_]+", name) for name in names)


def test_derived_defaults_are_the_templated_values_of_cookiecutter_json() -> None:
    data = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    templated = {v for k, v in data.items() if not k.startswith("_") and isinstance(v, str) and "{{" in v}
    assert templated == template_rules.DERIVED_DEFAULTS
    assert (ROOT / template_rules.PROJECT_DIR).is_dir()


@pytest.mark.parametrize(
    "value", ["", "plain", 'a "quoted" \\ back\\slash', "tab\t nl\n cr\r nul\x00 del\x7f", "ünï ${{ x }}"]
)
def test_toml_string_round_trips(value: str) -> None:
    assert tomllib.loads(f"x = {toml_string(value)}")["x"] == value


@examples(2000)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_toml_string_round_trips_any_text(value: str) -> None:
    assert tomllib.loads(f"x = {toml_string(value)}")["x"] == value

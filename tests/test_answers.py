"""Both engines judge every answer alike, say why in a line that fits, and stop before writing.

copier.yml holds each question's rule (macros of templates/rules.jinja); cookiecutter runs the
same validators through cookiecutter_questions.py. The whole table of bad and good answers
(tests/support/bad_values.py) and property-based answers run through each engine's own
validation code in-process and must get the same verdict and the same reason; one bad answer
per question also goes through real renders of both engines, which must leave nothing behind.
The values derived from the answers (slugs, dependency URLs and ref keys, Poetry's repository
names), the answers kept as data, and the answers each engine records are checked here too.

These are the fast tests that quality/mutate_rules.py runs against each mutant of the rules
(docs/maintaining.md): keep the file under a minute.
"""

from __future__ import annotations

import json
import keyword
import re
import shlex
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import ROOT, Bake, answers_for, cookiecutter_verdict, copier_answers, copier_verdict, render
from support.bad_values import BAD_ANSWERS, ENGINE, GOOD_ANSWERS, Bad

import cookiecutter_questions
from cookiecutter_questions import InvalidAnswers, UnsupportedCookiecutter

QUESTIONS = {
    name: spec
    for name, spec in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_") and spec.get("when") is not False
}
# copier prints "Validation error for question '<name>': " before a reason, on one line.
COPIER_LINE = 80


def examples(count: int) -> settings:
    """Reproducible in CI: no example database, the same examples on every run."""
    return settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def verdicts(given: dict[str, Any]) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    return cookiecutter_verdict(given), copier_verdict(given)


def macros(call: str, **values: Any) -> str:
    """A call of the template's macros rendered in-process, in the sandboxed environment both
    engines' validators run in: for rules whose result no verdict shows, and for long tables.
    `project.` values need the answers as `cookiecutter`."""
    imports = (
        "{% from 'templates/rules.jinja' import error %}"
        "{% from 'templates/dependencies.jinja' import parse_dependencies %}"
        "{% from 'templates/names.jinja' import slug_of %}"
    )
    if "project." in call:
        imports += "{% import 'templates/project.jinja' as project with context %}"
    return cookiecutter_questions.copier_environment().from_string(imports + call).render(values)


def python_slug(name: str) -> str:
    """The slug Python's own Unicode tables give a name: NFKD, then ASCII letters and digits."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def test_question_files_are_written_from_copier_yml() -> None:
    result = subprocess.run(
        [sys.executable, "maintainer/write_question_files.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_question_has_bad_and_good_answers_in_the_table() -> None:
    assert set(QUESTIONS) == {bad.question for bad in BAD_ANSWERS} == set(GOOD_ANSWERS)


@pytest.mark.parametrize("bad", BAD_ANSWERS, ids=str)
def test_both_engines_reject_a_bad_answer_for_the_same_reason(bad: Bad) -> None:
    cookiecutter, copier = verdicts(bad.given)
    if bad.reason == ENGINE:
        assert cookiecutter and copier, (cookiecutter, copier)
    else:
        assert cookiecutter == copier == (bad.question, bad.reason)


@pytest.mark.parametrize(
    ("question", "value"),
    [(question, value) for question, values in GOOD_ANSWERS.items() for value in values],
    ids=lambda item: repr(item)[:40],
)
def test_both_engines_accept_a_good_answer(question: str, value: Any) -> None:
    assert verdicts({question: value}) == (None, None)


def test_numbers_are_taken_as_text_by_both_engines() -> None:
    given = {"project_name": 42, "project_slug": "p42", "description": 1.5}
    assert verdicts(given) == (None, None)
    assert answers_for(given)["project_name"] == copier_answers(given)["project_name"] == "42"


@pytest.mark.parametrize(
    "bad",
    [
        bad
        for bad in BAD_ANSWERS
        if bad.reason != ENGINE
        and "choices" not in QUESTIONS[bad.question]
        and QUESTIONS[bad.question].get("type") == "str"
    ],
    ids=str,
)
def test_a_reason_fits_copiers_one_line_at_80_columns(bad: Bad) -> None:
    line = f"Validation error for question '{bad.question}': {bad.reason}"
    assert len(line) <= COPIER_LINE, line


# --- property-based -----------------------------------------------------------------------

ANY_TEXT = st.text(max_size=30)
TRICKY = st.sampled_from(
    [
        "{{",
        "}}",
        "{%",
        "${{",
        "$(",
        "`",
        '"',
        "'",
        "\\",
        ": ",
        "#",
        "@",
        "/",
        ",",
        "..",
        "-",
        "_",
        ".",
        " ",
        "\t",
        "\n",
        "é",
        "İ",
        "½",
        "Ⅻ",
        "ﬀ",
        "！",
        "\u202e",
        "\xa0",
        "A",
        "1",
    ]
)
MIXED_TEXT = st.lists(st.one_of(st.text(max_size=6), TRICKY), max_size=10).map("".join)


@examples(120)
@given(
    question=st.sampled_from(
        [name for name, spec in QUESTIONS.items() if spec.get("type") == "str" and "choices" not in spec]
    ),
    value=st.one_of(ANY_TEXT, MIXED_TEXT),
)
def test_any_text_gets_the_same_verdict_from_both_engines(question: str, value: str) -> None:
    cookiecutter, copier = verdicts({question: value})
    assert cookiecutter == copier


# Text the rules accept as a name: printing characters and the space, any script.
NAME_TEXT = st.lists(st.one_of(st.characters(exclude_categories=["C", "Z"]), st.just(" "), TRICKY), max_size=20).map(
    "".join
)


@examples(80)
@given(NAME_TEXT.map(lambda text: "a" + text))
def test_derived_names_follow_pythons_unicode_folding_in_both_engines(name: str) -> None:
    """stock copier has no Unicode normalization: templates/tables.jinja carries Python's."""
    expected = python_slug(name)
    given = {"project_name": name, "private_dependencies": ""}
    assume(verdicts(given) == (None, None))
    for answers in (answers_for(given), copier_answers(given)):
        assert answers["project_slug"] == expected
        assert answers["package_name"] == expected.replace("-", "_")


# Characters that must not reach a name (maintainer/write_question_files.py, NON_PRINTING).
NON_PRINTING_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"}


def test_every_character_python_folds_is_folded_as_python_folds_it() -> None:
    """One name holds each printing character that NFKD turns into ASCII, each between two
    letters, so one the template no longer folds (or folds wrong) changes the slug. (Its slug
    is too long for an answer: cookiecutter derives it without judging it.)"""
    folding = [
        chr(code)
        for code in range(0x80, 0x110000)
        if unicodedata.category(chr(code)) not in NON_PRINTING_CATEGORIES
        and unicodedata.normalize("NFKD", chr(code)).encode("ascii", "ignore")
    ]
    assert len(folding) > 2000 and "\U0001d400" in folding  # astral letters too (MATHEMATICAL BOLD A)
    name = "a" + "a".join(folding) + "a"
    assert answers_for({"project_name": name})["project_slug"] == python_slug(name)


def test_every_invisible_character_of_python_s_tables_is_refused_in_text() -> None:
    """The first and last code point of each run of invisible characters, found from
    unicodedata here: a range missing from NON_PRINTING lets both through."""
    ends, inside = [], False
    for code in range(0x110000):
        hidden = code != 0x20 and unicodedata.category(chr(code)) in NON_PRINTING_CATEGORIES
        if hidden != inside:
            ends.append(code if hidden else code - 1)
        inside = hidden
    ends += [0x10FFFF] if inside else []
    names = ["a" + chr(code) + "a" for code in ends]
    reasons = macros("{% for name in names %}{{ error('text', name) }};{% endfor %}", names=names)
    assert reasons.split(";")[:-1] == ["has an invisible character"] * len(names)
    assert len(names) > 50


def test_cookiecutter_writes_the_answers_file_as_copier_does() -> None:
    """copier's to_nice_yaml (jinja2_ansible_filters) writes .copier-answers.yml; so does ours."""
    from jinja2_ansible_filters.core_filters import to_nice_yaml

    answers = {
        "_src_path": "https://ghe.example.com/acme/t.git",
        "project_name": "Café — ${{ x }}",
        "n": [1, {"a": None}],
    }
    assert cookiecutter_questions.to_nice_yaml(answers) == to_nice_yaml(answers)


def test_every_keyword_and_standard_module_of_python_is_refused_as_a_package_name() -> None:
    """Only the names that the earlier rules let through (lower case, a letter after any
    underscores) reach these two tables."""
    reachable = re.compile(r"_*[a-z][a-z0-9_]*")
    keywords = [name for name in keyword.kwlist + keyword.softkwlist if reachable.fullmatch(name)]
    modules = [name for name in sorted(sys.stdlib_module_names) if reachable.fullmatch(name)]
    reasons = macros("{% for name in names %}{{ error('package', name) }};{% endfor %}", names=keywords + modules)
    assert reasons.split(";")[:-1] == ["is a Python keyword"] * len(keywords) + ["shadows a standard module"] * len(
        modules
    )
    assert len(keywords) > 30 and len(modules) > 150


def dependencies(text: str, org: str = "acme", host: str = "ghe.example.com:8443") -> list[dict[str, Any]]:
    call = "{% set ns = namespace(deps=[]) %}{{ parse_dependencies(ns, text, org, host) }}{{ ns.deps | tojson }}"
    return json.loads(macros(call, text=text, org=org, host=host))


def test_a_dependency_entry_becomes_an_https_url_under_its_organization() -> None:
    found = dependencies(" Core.Lib_x@v1.0 , other-org/tools@main@2 ,, ")
    assert [(dep["entry"], dep["org"], dep["given_org"], dep["repo"], dep["ref"], dep["name"]) for dep in found] == [
        ("Core.Lib_x@v1.0", "acme", None, "Core.Lib_x", "v1.0", "core-lib-x"),
        ("other-org/tools@main@2", "other-org", "other-org", "tools", "main@2", "tools"),
    ]
    assert [dep["url"] for dep in found] == [
        "https://ghe.example.com:8443/acme/Core.Lib_x.git",
        "https://ghe.example.com:8443/other-org/tools.git",
    ]


# Poetry's key for each ref, at the edges of the two patterns (a commit: 7 to 40 hex digits; a
# version: an optional v, a digit, then letters and digits in parts joined by - or .).
REF_KEYS = {
    "abcdef0": "rev",
    "0123456789abcdef0123456789abcdef01234567": "rev",
    "f" * 40: "rev",
    "a999999": "rev",
    "1234567": "rev",
    "abcdef": "branch",
    "f" * 41: "branch",
    "x1234567": "branch",
    "abcdef0x": "branch",
    "abc.def": "branch",
    "v1": "tag",
    "1.2.0": "tag",
    "v9.0": "tag",
    "v1Zz9": "tag",
    "v1.0-Zz9.x": "tag",
    "1.0-rc1": "tag",
    "main": "branch",
    "release/2.x": "branch",
    "x1": "branch",
    "v.1": "branch",
    "1.-2": "branch",
    "1_0": "branch",
    "1..2": "branch",
    "1.": "branch",
    "1.0_x": "branch",
    "V1": "branch",
}


def test_each_ref_gets_the_poetry_key_for_its_kind() -> None:
    found = {
        dep["ref"]: dep["ref_kind"]
        for dep in dependencies(", ".join(f"lib{n}@{ref}" for n, ref in enumerate(REF_KEYS)))
    }
    assert found == REF_KEYS


def test_the_project_values_derived_from_the_answers() -> None:
    answers = answers_for({"github_host": "ghe.example.com:8443", "python_version": "3.13"})
    assert macros("{{ project.host_name }} {{ project.pythons | join(',') }}", cookiecutter=answers) == (
        "ghe.example.com 3.13,3.14"
    )
    # Poetry ignores a repository name with a digit: A..Z, then AA..AZ, BA.., as spreadsheet columns.
    numbers = {1: "A", 2: "B", 25: "Y", 26: "Z", 27: "AA", 28: "AB", 52: "AZ", 53: "BA", 78: "BZ", 702: "ZZ"}
    names = macros(
        "{% for n in numbers %}{{ project.poetry_repository_name(n) }} {% endfor %}",
        cookiecutter=answers,
        numbers=list(numbers),
    )
    assert names.split() == [f"PRIVATE_{letters}" for letters in numbers.values()]
    # gh reads GH_TOKEN for github.com only; an Enterprise Server needs its host and its own variable.
    gh_env = "{{ project.gh_env('T', 0) }}"
    assert (
        macros(gh_env, cookiecutter=answers)
        == 'GH_HOST: "ghe.example.com:8443"\nGH_ENTERPRISE_TOKEN: T\nGH_REPO: ${{ github.repository }}'
    )
    assert macros(gh_env, cookiecutter=answers_for({})) == "GH_TOKEN: T\nGH_REPO: ${{ github.repository }}"


def test_cookiecutter_finds_the_shared_macros_under_copiers_names(tmp_path: Path) -> None:
    """The tree imports 'templates/project.jinja' as copier does, from the template root;
    cookiecutter loads the tree's files from the tree and from templates/ (cookiecutter.generate)."""
    from cookiecutter.environment import StrictEnvironment
    from jinja2 import FileSystemLoader

    (tmp_path / "workflow.yml").write_text("{% from 'templates/project.jinja' import gha with context %}{{ gha('x') }}")
    context = {"cookiecutter": {**answers_for({}), "_extensions": ["cookiecutter_questions.CopierQuestions"]}}
    environment = StrictEnvironment(context=context, keep_trailing_newline=True)
    environment.loader = FileSystemLoader([str(tmp_path), str(ROOT / "templates")])
    assert environment.get_template("workflow.yml").render(**context) == "${{ x }}"


# --- answers stay data ----------------------------------------------------------------------

TEMPLATE_LIKE = {
    "project_name": "Tpl {{ 7*7 }} {% if true %}x{% endif %}",
    "description": "{{ cookiecutter.project_name }} ${{ github.token }} {# c #}",
    "author_name": "{%- raw %}{{ x }}",
}


def test_answers_reach_both_engines_as_written_never_rendered() -> None:
    assert verdicts(TEMPLATE_LIKE) == (None, None)
    for answers in (answers_for(TEMPLATE_LIKE), copier_answers(TEMPLATE_LIKE)):
        assert {name: answers[name] for name in TEMPLATE_LIKE} == TEMPLATE_LIKE
        assert answers["project_slug"] == "tpl-7-7-if-true-x-endif"


def test_cookiecutter_refuses_to_start_where_it_would_render_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension's self-test fails closed: under a cookiecutter that renders answers from
    another place than the one keep_answers_as_data recognizes, loading the template stops with
    a clear error instead of rendering an answer."""
    import cookiecutter.prompt
    from cookiecutter.exceptions import UnknownExtension

    def render_variable(environment: Any, raw: Any, cookiecutter_dict: dict[str, Any]) -> Any:
        return environment.from_string(raw).render(cookiecutter=cookiecutter_dict) if isinstance(raw, str) else raw

    monkeypatch.setattr(cookiecutter.prompt, "render_variable", render_variable)
    cookiecutter_questions.prove_answers_stay_data.cache_clear()
    try:
        with pytest.raises(UnknownExtension) as stopped:
            answers_for({})
    finally:
        cookiecutter_questions.prove_answers_stay_data.cache_clear()
    # cookiecutter reports an extension's ImportError as one line; UnsupportedCookiecutter is one.
    assert isinstance(stopped.value.__cause__, UnsupportedCookiecutter)
    assert str(stopped.value) == (
        "Unable to load extension: this cookiecutter renders answers in a way this template cannot keep as data; "
        "use cookiecutter 2.x up to 2.7.1, or copier"
    )


REF_TEXT = st.text(
    st.one_of(st.sampled_from(list("ab1/.-@{}~^:?*[\\ \t_,")), st.characters(min_codepoint=0, max_codepoint=0x7F)),
    min_size=1,
    max_size=10,
)


def git_accepts(ref: str) -> bool:
    # Branch and tag names: check-ref-format's rules, and git refuses a leading '-' for both.
    result = subprocess.run(["git", "check-ref-format", "--allow-onelevel", ref], capture_output=True)
    return result.returncode == 0 and not ref.startswith("-")


@examples(150)
@given(REF_TEXT)
def test_the_ref_rule_agrees_with_git_check_ref_format(ref: str) -> None:
    # ',' separates entries and surrounding spaces are trimmed, so neither can reach a ref;
    # git cannot receive NUL as an argument.
    assume("," not in ref and ref == ref.strip() and "\x00" not in ref)
    cookiecutter, copier = verdicts({"private_dependencies": f"lib@{ref}"})
    assert cookiecutter == copier
    assert (cookiecutter is None) == git_accepts(ref), ref


GOOD_SLUG = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
GOOD_SECRET = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
    lambda name: not name.upper().startswith("GITHUB_")
)
GOOD_ORG = st.from_regex(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,2}", fullmatch=True)
GOOD_HOST = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}(:[1-9][0-9]{0,3})?", fullmatch=True)
BAD_CHARACTERS = [" ", "\t", "\n", "/", "\\", "..", "@", ":", "{", "$", "'", '"', ";", "é", "\x00", "A", "_", "."]


@st.composite
def broken(draw: st.DrawFn, good: st.SearchStrategy[str], prefixes: list[str]) -> str:
    """A good value with one rule broken: a bad character inside, or a bad start."""
    value = draw(good)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from(BAD_CHARACTERS)) + value[at:]
    return draw(st.sampled_from(prefixes)) + value


@examples(200)
@given(
    st.one_of(
        st.tuples(st.just("project_slug"), st.one_of(GOOD_SLUG, broken(GOOD_SLUG, ["1", "-", "_", "A"]))),
        st.tuples(st.just("token_secret_name"), st.one_of(GOOD_SECRET, broken(GOOD_SECRET, ["0", "GITHUB_", "-"]))),
        st.tuples(st.just("github_org"), st.one_of(GOOD_ORG, broken(GOOD_ORG, ["-", "."]))),
        st.tuples(st.just("github_host"), st.one_of(GOOD_HOST, broken(GOOD_HOST, ["https://", "user@", "-"]))),
    )
)
def test_near_misses_get_the_same_verdict_from_both_engines(case: tuple[str, str]) -> None:
    question, value = case
    assert cookiecutter_verdict({question: value}) == copier_verdict({question: value})


# --- real renders ---------------------------------------------------------------------------

FIRST_BAD = {bad.question: bad for bad in reversed(BAD_ANSWERS) if bad.reason != ENGINE}


@pytest.mark.parametrize("bad", FIRST_BAD.values(), ids=str)
def test_a_bad_answer_stops_both_engines_with_nothing_written(bad: Bad, bake: Bake, tmp_path: Path) -> None:
    with pytest.raises(InvalidAnswers) as stopped:
        bake(bad.given)
    named = [line for line in str(stopped.value).splitlines() if line.startswith(f"  {bad.question} = ")]
    assert len(named) == 1 and named[0].endswith(f": {bad.reason}"), str(stopped.value)
    assert bake.written() == []

    with pytest.raises(ValueError, match=re.escape(f"'{bad.question}': {bad.reason}")):
        render("copier", tmp_path / "copier", bad.given)
    assert not (tmp_path / "copier").exists()


def test_cookiecutter_judges_an_answer_as_given_before_it_became_text(bake: Bake) -> None:
    """The validation reads the answers as given (before cookiecutter's prompt), as copier's
    validators read `_copier_conf.data`: cookiecutter takes a list given for a name as a choice
    and keeps its first item, which alone would pass."""
    with pytest.raises(InvalidAnswers, match=re.escape("\n  project_name = 'a': must be text\n")):
        bake({"project_name": ["a", "b"]})
    assert bake.written() == []


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ({"git_auth": "ssh", "update_bot": "renovate"}, set()),
        (
            {"git_auth": "ssh", "update_bot": "dependabot", "package_index_url": "https://m.example.com/simple"},
            {"token_secret_name", "package_index_credentials"},
        ),
        ({"git_auth": "poetry-http-basic", "update_bot": "none"}, {"token_secret_name"}),
    ],
    ids=["neither", "both", "token"],
)
def test_copier_records_an_answer_only_where_the_project_uses_it(
    given: dict[str, Any], recorded: set[str], tmp_path: Path
) -> None:
    """Each `when` of copier.yml: an unused answer stays out of .copier-answers.yml."""
    render("copier", tmp_path / "copier", given)
    answers = yaml.safe_load((tmp_path / "copier" / ".copier-answers.yml").read_text())
    assert {"token_secret_name", "package_index_credentials"} & set(answers) == recorded
    # cookiecutter writes the same questions into the same file.
    ours = cookiecutter_questions.copier_answers(None, answers_for(given))
    assert {name for name in ours if not name.startswith("_")} == {name for name in answers if not name.startswith("_")}


def git(repository: Path, *arguments: str) -> None:
    identity = ["-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
    subprocess.run(["git", *identity, "-C", str(repository), *arguments], check=True, capture_output=True)


def test_cookiecutter_records_where_the_template_came_from_as_copier_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_src_path: the clone's origin, else the checkout's path; _commit: its tag, where git can tell."""
    checkout = tmp_path / "template"
    checkout.mkdir()
    git(checkout, "init", "-q")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "first")
    git(checkout, "tag", "v1.2.3")
    git(checkout, "remote", "add", "origin", "https://ghe.example.com/acme/template.git")
    source = cookiecutter_questions.template_source
    assert source(checkout) == {"_src_path": "https://ghe.example.com/acme/template.git", "_commit": "v1.2.3"}
    git(checkout, "remote", "remove", "origin")
    assert source(checkout) == {"_src_path": str(checkout), "_commit": "v1.2.3"}
    (tmp_path / "plain").mkdir()
    assert source(tmp_path / "plain") == {"_src_path": str(tmp_path / "plain")}
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert source(checkout) == {"_src_path": str(checkout)}


def test_cookiecutter_renders_copiers_next_steps_for_the_directory_it_writes(tmp_path: Path) -> None:
    answers = {**answers_for({"project_slug": "billing"}), "_output_dir": str(tmp_path / "out")}
    printed = cookiecutter_questions.next_steps(answers)
    assert f"make {tmp_path / 'out' / 'billing'} a repository" in printed
    assert printed == cookiecutter_questions.message_after_copy(answers)


def test_cookiecutter_names_each_bad_answer_and_the_command_to_rerun(tmp_path: Path) -> None:
    """No traceback; the command shown carries the answers given, the bad ones last, and runs
    once they are corrected there, with the derived package_name following the corrected slug."""
    cookiecutter = str(Path(sys.executable).parent / "cookiecutter")
    command = [
        cookiecutter,
        "--no-input",
        "--output-dir",
        str(tmp_path / "out"),
        str(ROOT),
        "project_name=Billing",
        "project_slug=Billing Service",
        "github_org=acme..corp",
        "__answers=x",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:7] == [
        "Cannot generate the project: 4 answer(s) not valid, nothing written.",
        "  project_slug = 'Billing Service': has a space: use - between words",
        "  package_name = 'Billing Service': must start with a-z or _",
        "  github_org = 'acme..corp': use only letters, digits and -",
        "  __answers = 'x': is not a question: leave it out",
        "(package_name: derived from the answers before, so it follows their correction.)",
        "Run it again with project_slug, github_org corrected at the end of this command:",
    ]
    assert not (tmp_path / "out").exists()
    rerun = shlex.split(lines[7])
    assert rerun == ["cookiecutter", *command[1:-1]], "the same options and answers, __answers left out"
    corrected = [*rerun[:-2], "project_slug=billing-service", "github_org=acme-corp"]
    fixed = subprocess.run([cookiecutter, *corrected[1:]], capture_output=True, text=True, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    answers = yaml.safe_load((tmp_path / "out" / "billing-service" / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["package_name"], answers["github_org"]) == (
        "Billing",
        "billing_service",
        "acme-corp",
    )

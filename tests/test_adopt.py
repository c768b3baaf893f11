"""A repository that was not generated from the template adopts it, then takes ordinary updates.

- Inference: scripts/adopt.py reads small pyproject.toml texts (PEP 621 and Poetry 1, every git
  URL spelling, a Python range below the oldest supported, missing fields) and keeps hostile
  values out of the answers unless copier's validators see them.
- Refusals: a dirty working tree, a template that is not an https URL, a tag that is not a
  release, a repository already under copier: the tool stops and changes nothing.
- The seed case, end to end: tests/fixtures/legacy-seed-project (Poetry 1, three private git
  dependencies in three spellings, a legacy workflow that writes the token to disk) is adopted
  from a tagged copy of this template served by the session's HTTPS git server, resolved by hand
  exactly as docs/adopting.md says, locked and installed with the rendered CI step's credential
  handling, checked with the project's own ruff and mypy, then updated to the next template
  release with `copier update`; the real Renovate's copier manager proposes that release too.

The fixture's private dependencies are rewritten to the test server (host and org; repository
names, refs and the three URL spellings kept). Its SSH spellings need no sshd: they are only
read, to infer the answers, and adoption replaces every private dependency with the template's
plain https line, which is what Poetry then locks and installs.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from support import ROOT, TREE, package_index_url, run, tool_env
from support.engines import STOCK_COPIER
from support.git_credentials import credential_helper_env, files_holding
from support.gitserver import GitServer, make_repository
from support.renovate import Renovate, host_rule, require_renovate, secrets_env
from support.template_copy import commit_all, copy_template

ADOPT = ROOT / "scripts" / "adopt.py"
DOCS = ROOT / "docs" / "adopting.md"
SEED = Path(__file__).parent / "fixtures" / "legacy-seed-project"
TEMPLATE_REPOSITORY = "python-template-adopted"  # under the server's org; test_renovate serves its own copy
TOKEN_SECRET = "POETRY_GIT_TOKEN"  # the template's default secret name
NEW_FILE, NEW_FILE_TEXT = ".editorconfig", "root = true\n\n[*]\nend_of_line = lf\n"  # what v0.2.0 adds
FETCH_STEP = "Check access to the private dependencies and fetch them"


def load_adopt() -> ModuleType:
    spec = importlib.util.spec_from_file_location("adopt", ADOPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["adopt"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


adopt = load_adopt()


def answers_of(text: str, package_dirs: tuple[str, ...] = ()) -> dict[str, str]:
    return {name: answer.value for name, answer in adopt.infer(text, package_dirs).answers.items()}


def notes_of(text: str) -> str:
    return "\n".join(adopt.infer(text).notes)


def poetry_project(dependencies: str = "", python: str = '"^3.11"', extra: str = "") -> str:
    return (
        '[tool.poetry]\nname = "billing"\nversion = "1.0.0"\ndescription = "Bills"\n'
        f'authors = ["Billing Team <billing@example.com>"]\n{extra}\n'
        f"[tool.poetry.dependencies]\npython = {python}\n{dependencies}\n"
    )


# ----------------------------------------------------------------------------- inference


def test_seed_project_answers_and_where_each_came_from() -> None:
    inference = adopt.infer((SEED / "pyproject.toml").read_text(), ["src/orders_api"])
    found = {name: (answer.value, answer.source) for name, answer in inference.answers.items()}
    assert found == {
        "project_name": ("orders-api", "[tool.poetry] name"),
        "project_slug": ("orders-api", "[tool.poetry] name"),
        "description": ("Order intake service of the example organization", "[tool.poetry] description"),
        "author_name": ("Order Team", "[tool.poetry] authors[0]"),
        "author_email": ("orders@example.com", "[tool.poetry] authors[0]"),
        "package_name": ("orders_api", "[tool.poetry] packages[0].include"),
        "python_version": ("3.11", '[tool.poetry.dependencies] python = "^3.10"'),
        "github_host": ("github.com", "https://github.com/privateorg/privaterepo.git"),
        "github_org": ("privateorg", "3 of 3 git dependencies"),
        # Poetry's `rev = "main"` names a branch: kept as given, the template decides its kind.
        "private_dependencies": ("privaterepo@main, pricing@v1.4.0, audit-log@stable", "[tool.poetry.dependencies]"),
    }
    assert any("raised to 3.11" in note for note in inference.notes), inference.notes


@pytest.mark.parametrize(
    ("spec", "host", "entry"),
    [
        ('{ git = "https://github.com/acme/core-lib.git", tag = "v1.2.0" }', "github.com", "core-lib@v1.2.0"),
        ('{ git = "git+https://github.com/acme/core-lib", branch = "main" }', "github.com", "core-lib@main"),
        ('{ git = "ssh://git@github.com/acme/core-lib.git", tag = "v1.2.0" }', "github.com", "core-lib@v1.2.0"),
        ('{ git = "git@github.com:acme/core-lib.git", rev = "0a1b2c3d" }', "github.com", "core-lib@0a1b2c3d"),
        (
            '{ git = "https://git.example.com:8443/acme/core-lib.git", tag = "v2" }',
            "git.example.com:8443",
            "core-lib@v2",
        ),
        # An SSH port is SSH's, not the web's: only the host name is an answer.
        ('{ git = "ssh://git@git.example.com:2222/acme/core-lib.git", tag = "v2" }', "git.example.com", "core-lib@v2"),
    ],
)
def test_each_poetry_git_spelling_gives_host_org_and_entry(spec: str, host: str, entry: str) -> None:
    answers = answers_of(poetry_project(f"core-lib = {spec}"))
    assert (answers["github_host"], answers["github_org"], answers["private_dependencies"]) == (host, "acme", entry)


def test_pep621_metadata_and_pep508_git_references() -> None:
    text = """
[project]
name = "Ledger_Service"
description = "Keeps the books"
authors = [{ name = "Ledger Team", email = "ledger@example.com" }]
requires-python = ">=3.12,<4"
dependencies = [
    "requests>=2.31",
    "core-lib @ git+https://git.example.com:8443/acme/core-lib.git@v1.2.0",
    "tools @ git+ssh://git@git.example.com/platform/tools.git@main",
    "app-lib[cli] @ git+https://git.example.com:8443/acme/app-lib.git@v0.3.0#egg=app-lib ; python_version >= '3.12'",
]
"""
    answers = answers_of(text, ("src/ledger_service",))
    assert answers == {
        "project_name": "Ledger_Service",
        "project_slug": "ledger-service",
        "description": "Keeps the books",
        "author_name": "Ledger Team",
        "author_email": "ledger@example.com",
        "package_name": "ledger_service",
        "python_version": "3.12",
        "github_host": "git.example.com:8443",
        "github_org": "acme",
        "private_dependencies": "core-lib@v1.2.0, platform/tools@main, app-lib@v0.3.0",
    }
    sources = adopt.infer(text).answers
    assert sources["project_slug"].source == "[project] name, normalized (PEP 503)"
    assert sources["private_dependencies"].source == "[project] dependencies"


@pytest.mark.parametrize(
    ("python", "expected", "note"),
    [
        ('"^3.10"', "3.11", "raised to 3.11"),
        ('">=3.8,<4.0"', "3.11", "raised to 3.11"),
        ('">= 3.9, < 3.13"', "3.11", "raised to 3.11"),
        ('"^2.7 || ^3.6"', "3.11", "raised to 3.11"),
        ('"^3.11"', "3.11", None),
        ('"~3.12"', "3.12", None),
        ('"~=3.13.1"', "3.13", None),
        ('"3.12.*"', "3.12", None),
        ('">=3.14"', "3.14", None),
        ('"*"', None, "no lower bound"),
        ('"<3.13"', None, "no lower bound"),
    ],
)
def test_python_range_gives_the_oldest_supported_version_it_allows(
    python: str, expected: str | None, note: str | None
) -> None:
    inference = adopt.infer(poetry_project(python=python))
    assert inference.answers.get("python_version", adopt.Answer("", "")).value == (expected or "")
    if note:
        assert any(note in line for line in inference.notes), inference.notes


def test_python_range_above_every_supported_version_is_refused() -> None:
    with pytest.raises(adopt.Refused, match=r"--data python_version="):
        adopt.infer(poetry_project(python='">=3.15"'))


def test_supported_pythons_are_copier_yml_choices() -> None:
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert tuple(questions["python_version"]["choices"]) == adopt.SUPPORTED_PYTHONS


def test_missing_fields_are_left_to_the_template_defaults_and_said() -> None:
    inference = adopt.infer('[tool.poetry]\nname = "bare"\n')
    assert {name: answer.value for name, answer in inference.answers.items()} == {
        "project_name": "bare",
        "project_slug": "bare",
        "package_name": "bare",
        "private_dependencies": "",  # none, not the template's example dependencies
    }
    notes = "\n".join(inference.notes)
    for expected in ("author_name", "No Python range", "--data github_org="):
        assert expected in notes
    assert adopt.infer("").answers == {
        "private_dependencies": adopt.Answer("", "no git dependencies in pyproject.toml")
    }


def test_package_comes_from_packages_then_src_then_the_slug() -> None:
    assert answers_of(poetry_project(extra='packages = [{ include = "billing_core", from = "src" }]'))[
        "package_name"
    ] == ("billing_core")
    assert answers_of(poetry_project(), ("src/billing_app",))["package_name"] == "billing_app"
    assert answers_of(poetry_project(), ("billing_flat", "src/billing_app"))["package_name"] == "billing_app"
    assert answers_of(poetry_project(), ("billing_flat",))["package_name"] == "billing_flat"
    assert answers_of(poetry_project())["package_name"] == "billing"
    flat = adopt.infer(poetry_project(extra='packages = [{ include = "billing_core" }]'))
    assert any("move it there" in note for note in flat.notes)


def test_dependencies_in_another_org_keep_it_and_other_hosts_are_left_out() -> None:
    inference = adopt.infer(
        poetry_project(
            'a = { git = "https://github.com/acme/a.git", tag = "v1" }\n'
            'b = { git = "https://github.com/acme/b.git", tag = "v1" }\n'
            'tools = { git = "https://github.com/platform/tools.git", branch = "main" }\n'
            'gl = { git = "https://gitlab.com/acme/gl.git", tag = "v1" }\n'
            'nested = { git = "https://github.com/acme/group/sub.git", tag = "v1" }\n'
            'loose = { git = "https://github.com/acme/loose.git" }\n'
            'billing-lib = { git = "https://github.com/acme/billing.git", tag = "v1" }\n'
        )
    )
    assert inference.answers["private_dependencies"].value == "a@v1, b@v1, platform/tools@main, billing@v1"
    notes = "\n".join(inference.notes)
    assert '"gl" is on "gitlab.com"' in notes
    assert '"nested"' in notes and "is not host/org/repo" in notes
    assert '"loose" pins no tag, branch or rev' in notes
    assert "rename it" in notes  # billing-lib comes from the repository billing
    assert set(inference.left_out) == {"gl", "loose"}


PEP621_AND_POETRY_METADATA = """
[project]
name = "ledger"
version = "2.3.0"
keywords = ["books"]
license = "MIT"
readme = "README.md"
dependencies = [
    "requests>=2.31",
    "core-lib @ git+https://github.com/acme/core-lib.git@v1.0.0",
    "click[extra]>=8; python_version >= '3.12'",
]

[project.scripts]
ledger = "ledger:main"

[tool.poetry]
homepage = "https://example.com/ledger"
maintainers = ["Ops Team <ops@example.com>"]
include = ["CHANGELOG.md"]

[tool.poetry.dev-dependencies]
pytest = "^7.1"
black = "^22.3"
hypothesis = "^6.0"

[tool.poetry.group.docs.dependencies]
mkdocs = "^1.5"

[tool.black]
line-length = 88

[tool.mypy]
strict = true
"""


def test_what_to_carry_into_the_template_s_pyproject_and_what_to_leave_out() -> None:
    template = {
        "project": {"version": "0.1.0", "readme": "README.md", "requires-python": ">=3.11"},
        "tool": {"poetry": {"group": {"dev": {"dependencies": {"pytest": ">=9.0"}}}}, "mypy": {"strict": True}},
    }
    old = tomllib.loads(PEP621_AND_POETRY_METADATA)
    carry, leave = adopt.pyproject_guidance(old, template, adopt.infer(PEP621_AND_POETRY_METADATA))
    assert carry == [
        ("[project]", 'version = "2.3.0"'),
        ("[project]", 'keywords = ["books"]'),
        ("[project.scripts]", 'ledger = "ledger:main"'),
        ("[project.urls]", 'Homepage = "https://example.com/ledger"'),
        ("[project]", 'maintainers = [{ name = "Ops Team", email = "ops@example.com" }]'),
        ("[tool.poetry]", 'include = ["CHANGELOG.md"]'),
        ("[tool.poetry.dependencies]", 'requests = ">=2.31"'),
        ("[tool.poetry.group.dev.dependencies]", 'hypothesis = "^6.0"'),
        ("[tool.poetry.group.docs.dependencies]", 'mkdocs = "^1.5"'),
    ]
    # Each line, put under its table, is TOML that says what the old file said.
    for table, line in carry:
        tomllib.loads(f"{table}\n{line}\n")
    assert [what for what, _ in leave] == [
        "[project] license",
        "core-lib",
        "click[extra]>=8; python_version >= '3.12'",
        "pytest (dev)",
        "black (dev)",
        "[tool.poetry.dev-dependencies]",
        "[tool.black]",
        "[tool.mypy]",
    ]


# ----------------------------------------------------------------------------- hostile values


@pytest.mark.parametrize(
    ("spec", "kept_out"),
    [
        # A comma in a ref would split one entry into two: an extra dependency nobody asked for.
        ('{ git = "https://github.com/acme/a.git", tag = "v1, evil-org/backdoor@v1" }', "backdoor"),
        ('{ git = "https://github.com/acme/a.git", branch = "main other@v2" }', "other"),
        ('{ git = "https://github.com/acme/a,b.git", tag = "v1" }', "a,b"),
        ('{ git = "https://github.com/acme/../../evil.git", tag = "v1" }', "evil"),
        ('{ git = "--upload-pack=touch /tmp/pwned", tag = "v1" }', "pwned"),
        ('{ git = "ext::sh -c touch% /tmp/pwned", tag = "v1" }', "pwned"),
        ('{ git = "file:///srv/git/acme/a.git", tag = "v1" }', "srv"),
        ('{ git = ["https://github.com/acme/a.git"], tag = "v1" }', "a@"),
        ('{ git = "https://github.com/acme/a.git", tag = 1 }', "a@"),
    ],
)
def test_hostile_git_dependencies_never_reach_the_dependency_answer(spec: str, kept_out: str) -> None:
    inference = adopt.infer(
        poetry_project(f'a = {spec}\nok = {{ git = "https://github.com/acme/ok.git", tag = "v1" }}')
    )
    assert inference.answers["private_dependencies"].value == "ok@v1"
    assert kept_out not in inference.answers["private_dependencies"].value
    assert inference.notes, "a dependency left out is always said"


def test_a_credential_in_a_git_url_is_never_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    token = "ghp_" + "S3cr3t" * 6
    text = poetry_project(
        f'a = {{ git = "https://x-access-token:{token}@github.com/acme/a.git", tag = "v1" }}\n'
        f'b = {{ git = "https://{token}@github.com/acme/b.git", tag = "v1" }}\n'
        f'c = {{ git = "https://user:{token}@github.com:badport/acme/c.git", tag = "v1" }}\n'
        f'd = {{ url = "https://user:{token}@files.example.com/d.whl" }}\n'
    )
    inference = adopt.infer(text)
    assert inference.answers["github_host"].value == "github.com"
    assert inference.answers["private_dependencies"].value == "a@v1, b@v1"
    assert "revoke" in "\n".join(inference.notes)
    adopt.print_answers(inference, {})
    carry, leave = adopt.pyproject_guidance(tomllib.loads(text), {}, inference)
    printed = capsys.readouterr().out + repr(inference) + repr(carry) + repr(leave)
    assert token not in printed


def test_values_that_are_not_text_are_not_answers() -> None:
    text = (
        "[project]\nname = 42\ndescription = ['x']\nauthors = \"Team <t@example.com>\"\n"
        'requires-python = 3.11\n[tool.poetry]\npackages = [{ include = "../escape", from = "src" }]\n'
    )
    inference = adopt.infer(text)
    assert set(inference.answers) == {"private_dependencies"}
    notes = "\n".join(inference.notes)
    assert "[project] name is not text" in notes and "[project] description is not text" in notes
    assert "not a list of authors" in notes


def test_text_values_go_to_copier_as_they_are_and_are_shown_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """Free text is copier's to judge (its validators reject invisible characters); this tool
    only keeps the terminal safe while it shows the value."""
    hostile = "Orders\x1b[2J\u202eevil\nnext"
    inference = adopt.infer(f'[project]\nname = "orders"\ndescription = {adopt.toml_value(hostile)}\n')
    assert inference.answers["description"].value == hostile
    adopt.print_answers(inference, {"author_name": "Team\x07"})
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert r"Orders\x1b[2J\u202eevil\nnext" in shown and r"Team\x07" in shown


def test_file_names_from_the_repository_are_shown_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "notes\x1b]0;owned\x07.md"
    report = adopt.Report(
        "orders_api", [hostile], [hostile], [(f".github/workflows/{hostile}", "replaced by ci.yml")], [], [], []
    )
    adopt.print_report(report, Path("/srv") / hostile, "https://git.example.com/acme/t.git", "v1.0.0")
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\x07" not in printed
    assert r"notes\x1b]0;owned\x07.md" in printed


@pytest.mark.parametrize(
    "value",
    ["plain", "caf\u00e9 \U0001f600", "yes", "null", "3.10", "- x", "a: b", '"q" \\ b', "line\nbreak\ttab",
     "\x00\x07\x1b\x7f\x85\u2028\u2029\ufeff\ud7ff\ue000", "{{ 7 * 7 }}", "#comment", ""],
)  # fmt: skip
def test_answers_reach_copier_exactly_as_yaml_data(value: str) -> None:
    assert yaml.safe_load(f"key: {adopt.yaml_string(value)}\n") == {"key": value}


@pytest.mark.parametrize(
    "value", ["^2.31", {"version": "^1", "extras": ["a b"]}, ["x", 1, True], "tab\there \x7f \u202e"]
)
def test_lines_to_carry_over_are_valid_toml(value: Any) -> None:
    assert tomllib.loads(f"key = {adopt.toml_value(value)}\n") == {"key": value}


# ----------------------------------------------------------------------------- refusals


def legacy_repository(path: Path, env: dict[str, str], pyproject: str | None = None) -> Path:
    """The seed fixture (or another pyproject.toml) committed as a repository's only history."""
    shutil.copytree(SEED, path)
    if pyproject is not None:
        (path / "pyproject.toml").write_text(pyproject)
    commit_all(path, env, "Orders API as it was", init=True)
    return path


def repository_state(repository: Path, env: dict[str, str]) -> tuple[str, str, str]:
    """(HEAD, branches, status): what a refusal must leave as it was."""
    return (
        run(["git", "rev-parse", "HEAD"], repository, env).stdout,
        run(["git", "branch", "--list"], repository, env).stdout,
        run(["git", "status", "--porcelain", "--ignored"], repository, env).stdout,
    )


def run_adopt(
    repository: Path, env: dict[str, str], template: str, ref: str = "v0.1.0", *data: str
) -> subprocess.CompletedProcess[str]:
    """The tool as a person runs it: its own process, the standard library only (-S: no
    site-packages), copier from PATH."""
    command = [sys.executable, "-I", "-S", str(ADOPT), "--template", template, "--ref", ref]
    command += [option for answer in data for option in ("--data", answer)]
    return run([*command, str(repository)], repository.parent, env, check=False)


@pytest.mark.parametrize(
    ("change", "template", "ref", "data", "message"),
    [
        ("edit", "https://git.example.com/acme/python-template.git", "v0.1.0", (), "The working tree has changes"),
        ("untracked", "https://git.example.com/acme/python-template.git", "v0.1.0", (), "working tree has changes"),
        ("answers", "https://git.example.com/acme/python-template.git", "v0.1.0", (), "copier update already"),
        ("branch", "https://git.example.com/acme/python-template.git", "v0.1.0", (), "A branch adopt-template"),
        (None, "gh:acme/python-template", "v0.1.0", (), "--template must be the template's https URL"),
        (None, "/srv/python-template", "v0.1.0", (), "--template must be the template's https URL"),
        (None, "https://user:ghp_x@git.example.com/acme/t.git", "v0.1.0", (), "without credentials"),
        (None, "https://git.example.com/acme/t.git", "main", (), "--ref must be a release tag"),
        (None, "https://git.example.com/acme/t.git", "v1.2", (), "--ref must be a release tag"),
        (None, "https://git.example.com/acme/t.git", "v0.1.0", ("github-org=acme",), "--data takes question=value"),
        (None, "https://git.example.com/acme/t.git", "v0.1.0", ("github_org",), "--data takes question=value"),
    ],
)
def test_refuses_and_changes_nothing(
    tmp_path: Path, change: str | None, template: str, ref: str, data: tuple[str, ...], message: str
) -> None:
    env = tool_env(tmp_path / "home")
    repository = legacy_repository(tmp_path / "orders-api", env)
    if change == "edit":
        (repository / "README.md").write_text("changed\n")
    elif change == "untracked":
        (repository / "notes.txt").write_text("new\n")
    elif change == "answers":
        (repository / ".copier-answers.yml").write_text("_src_path: https://git.example.com/acme/t.git\n")
        commit_all(repository, env, "Answers")
    elif change == "branch":
        run(["git", "branch", "adopt-template"], repository, env)
    before = repository_state(repository, env)
    result = run_adopt(repository, env, template, ref, *data)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert repository_state(repository, env) == before


# ----------------------------------------------------------------------------- the seed case, end to end


def library(name: str, version: str) -> dict[str, str]:
    module = name.replace("-", "_")
    return {
        "pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.9"\n\n'
            f'[tool.poetry]\npackages = [{{ include = "{module}", from = "src" }}]\n\n'
            '[build-system]\nrequires = ["poetry-core>=2.0,<3"]\nbuild-backend = "poetry.core.masonry.api"\n'
        ),
        f"src/{module}/__init__.py": f'VALUE = "{name} {version}"\n',
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, git_server: GitServer) -> str:
    """The template's URL on the server: this working tree tagged v0.1.0, then v0.2.0 adding a
    file. Beside it, the seed project's three private repositories under their own names, with
    the refs the fixture pins: privaterepo's main, pricing's tag v1.4.0, audit-log's branch stable."""
    root = tmp_path_factory.mktemp("adopt-served")
    env = tool_env(root / "home")
    template = copy_template(root / "template", env)
    (template / TREE.name / NEW_FILE).write_text(NEW_FILE_TEXT)
    commit_all(template, env, "v0.2.0")
    run(["git", "tag", "v0.2.0"], template, env)
    url = git_server.publish(template, TEMPLATE_REPOSITORY)

    for name, tag in (("privaterepo", "v0.1.0"), ("pricing", "v1.4.0"), ("audit-log", "v2.0.0")):
        bare = root / "libraries" / f"{name}.git"
        make_repository(bare, library(name, tag.removeprefix("v")), tag=tag)
        if name == "audit-log":
            run(["git", "--git-dir", str(bare), "branch", "stable", "main"], root, env)
        git_server.publish(bare, name)
    return url


def point_at_server(repository: Path, server: GitServer) -> None:
    """The fixture's private URLs moved to the test server: host and org change, the spellings stay."""
    pyproject = repository / "pyproject.toml"
    text = pyproject.read_text()
    for old, new in [
        ("https://github.com/privateorg/", f"https://{server.host}/{server.org}/"),
        ("ssh://git@github.com/privateorg/", f"ssh://git@127.0.0.1/{server.org}/"),
        ("git@github.com:privateorg/", f"git@127.0.0.1:{server.org}/"),
    ]:
        assert old in text
        text = text.replace(old, new)
    pyproject.write_text(text)


def adopter_env(root: Path, server: GitServer) -> dict[str, str]:
    """A person's shell: stock copier on PATH (copier alone, as README.md installs it), git
    reaching the server with the token through an env-only credential helper."""
    tools = root / "tools"
    tools.mkdir(parents=True)
    (tools / "copier").symlink_to(STOCK_COPIER)
    env = tool_env(root / "home", **server.env(), **credential_helper_env(server, TOKEN_SECRET))
    env["PATH"] = f"{tools}:{env['PATH']}"
    return env


def documented(*command: str) -> list[str]:
    """A command as docs/adopting.md writes it: the test does what the guide says."""
    line = " ".join(command)
    assert line in DOCS.read_text(), f"docs/adopting.md does not say `{line}`"
    return list(command)


def insert_under(path: Path, table: str, line: str, replacing: str | None = None) -> None:
    """One edit by hand: `line` under `[table]`, in place of the key it sets when that exists."""
    text = path.read_text()
    if replacing:
        text, count = re.subn(rf"^{re.escape(replacing)} = .*$", line, text, count=1, flags=re.M)
        assert count == 1, f"{replacing} not found"
    else:
        text, count = re.subn(rf"^\[{re.escape(table)}\]\n", f"[{table}]\n{line}\n", text, count=1, flags=re.M)
        assert count == 1, f"[{table}] not found"
    path.write_text(text)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    result = run(command, cwd, env, check=False)
    return result, time.perf_counter() - started


def ci_credential_env(project: Path, token: str) -> dict[str, str]:
    """git's credential as the rendered CI gives it: the credential helper that the credential
    job's fetch script configures for the step's GIT_HOST (it reads the token from the
    environment), and the token in its variable."""
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    step = next(step for step in ci["jobs"]["private-sources"]["steps"] if step.get("name") == FETCH_STEP)
    assert step["env"]["PRIVATE_GIT_TOKEN"].startswith("${{ secrets.")
    script = (project / "scripts" / "fetch_private_sources.sh").read_text()
    found = re.search(r"^  helper='(.*)'$", script, re.M)
    assert found and 'GIT_CONFIG_KEY_1="credential.https://${GIT_HOST}.helper"' in script, script
    key = f"credential.https://{step['env']['GIT_HOST']}.helper"
    given = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": key, "GIT_CONFIG_VALUE_0": ""}
    given |= {"GIT_CONFIG_KEY_1": key, "GIT_CONFIG_VALUE_1": found[1]}
    return {**given, "PRIVATE_GIT_TOKEN": token, "GIT_TERMINAL_PROMPT": "0"}


@pytest.mark.slow
def test_seed_project_adopts_the_template_and_takes_the_next_release(
    tmp_path: Path, git_server: GitServer, served: str
) -> None:
    env = adopter_env(tmp_path, git_server)
    repository = legacy_repository(tmp_path / "orders-api", env)
    point_at_server(repository, git_server)
    commit_all(repository, env, "Private dependencies on the organization's server")
    legacy_commit = run(["git", "rev-parse", "HEAD"], repository, env).stdout.strip()

    # 1. The tool. The index answer stands in for an organization's mirror (--data overrides).
    index = f"package_index_url={package_index_url()}"
    started = time.perf_counter()
    adopted = run_adopt(repository, env, served, "v0.1.0", index)
    adopt_seconds = time.perf_counter() - started
    print(f"\n{adopted.stdout}\nadoption: {adopt_seconds:.2f} s")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    out = " ".join(adopted.stdout.split())  # spacing aside
    for shown in (
        'private_dependencies "privaterepo@main, pricing@v1.4.0, audit-log@stable"',
        f'github_host "{git_server.host}"',
        'python_version "3.11"',
        "raised to 3.11",
        "package_index_url",
    ):
        assert shown in out, shown

    git = ["git"]
    assert run([*git, "branch", "--show-current"], repository, env).stdout.strip() == "adopt-template"
    assert run([*git, "rev-parse", "HEAD"], repository, env).stdout.strip() == legacy_commit, "nothing committed yet"
    conflicted = run([*git, "diff", "--name-only", "--diff-filter=U"], repository, env).stdout.split()
    assert conflicted == ["README.md", "pyproject.toml", "src/orders_api/__init__.py"]
    answers = yaml.safe_load((repository / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (served, "v0.1.0")
    assert answers["github_org"] == git_server.org and answers["project_slug"] == "orders-api"
    # What the tool tells the person to do, with the commands the guide gives.
    for expected in (
        "git checkout --theirs -- pyproject.toml",
        "git checkout --theirs -- README.md",
        "git checkout --ours -- src/orders_api/__init__.py",
        ".github/workflows/check.yml: replaced by the template's ci.yml: delete it; it hands the token to git",
        "git rm -q -- .github/workflows/check.yml",
        'under [project]: version = "0.4.2"',
        'under [tool.poetry.dependencies]: requests = "^2.31"',
        'leave out python = "^3.10"',
        "leave out black (dev): ruff replaces it",
        "tests/test_orders_api.py is the template's starter test",
        "poetry lock",
        "git add -A && git commit --no-edit",
    ):
        assert expected in out, expected

    # 2. By hand, as docs/adopting.md says.
    def by_hand(*command: str) -> None:
        run(documented(*command), repository, env)

    by_hand("git", "checkout", "--theirs", "--", "pyproject.toml")
    pyproject = repository / "pyproject.toml"
    insert_under(pyproject, "project", 'version = "0.4.2"', replacing="version")
    insert_under(pyproject, "tool.poetry.dependencies", 'requests = "^2.31"')
    by_hand("git", "checkout", "--theirs", "--", "README.md")
    own_readme = run(["git", "show", "HEAD:README.md"], repository, env).stdout
    with (repository / "README.md").open("a") as readme:
        readme.write("\n## About this service\n\n" + own_readme.split("\n", 1)[1].lstrip())
    by_hand("git", "checkout", "--ours", "--", "src/orders_api/__init__.py")
    by_hand("git", "rm", "-q", "--", ".github/workflows/check.yml")
    (repository / "tests" / "test_orders_api.py").write_text(
        "from orders_api import __version__, total\n\n\n"
        "def test_total_rounds_to_cents() -> None:\n"
        "    assert total([0.1, 0.2]) == 0.3\n\n\n"
        "def test_version_is_the_project_s() -> None:\n"
        '    assert __version__ == "0.4.2"\n'
    )
    by_hand("git", "add", "--", "pyproject.toml", "README.md", "src/orders_api/__init__.py", "tests/test_orders_api.py")
    assert not run([*git, "diff", "--name-only", "--diff-filter=U"], repository, env).stdout

    # 3. Lock and install as the guide says, with git given the token the way the rendered CI step
    # gives it, and Poetry using the system git, as the generated README sets it up.
    work_env = {
        **tool_env(tmp_path / "home", **git_server.env()),
        **ci_credential_env(repository, git_server.token),
        "POETRY_SYSTEM_GIT_CLIENT": "true",
    }
    git_server.take_requests()
    run(documented("poetry", "lock"), repository, work_env)
    locked = {
        package["name"]: package for package in tomllib.loads((repository / "poetry.lock").read_text())["package"]
    }
    assert "requests" in locked
    for name, reference in (("privaterepo", "main"), ("pricing", "v1.4.0"), ("audit-log", "stable")):
        assert locked[name]["source"]["url"] == git_server.url(name), "the lock holds the plain https URL"
        assert locked[name]["source"]["reference"] == reference
    run(documented("poetry", "install"), repository, work_env)
    fetched = {r.repository for r in git_server.take_requests() if r.authenticated and r.status == 200}
    assert fetched == {f"{git_server.org}/{name}" for name in ("privaterepo", "pricing", "audit-log")}
    imported = run(
        [".venv/bin/python", "-c", "import privaterepo, pricing, audit_log; print(pricing.VALUE)"], repository, env
    )
    assert imported.stdout.strip() == "pricing 1.4.0"

    # The project's own checks, as the tool and the generated README list them.
    for check in (("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",), ("pytest",)):
        run(["poetry", "run", *check], repository, env)

    # 4. Commit the merge.
    run(["sh", "-c", documented("git add -A && git commit --no-edit")[0]], repository, env)
    parents = run([*git, "rev-list", "--parents", "-n", "1", "HEAD"], repository, env).stdout.split()
    assert len(parents) == 3 and parents[1] == legacy_commit, "a merge of the repository and the template"
    assert not (repository / ".github" / "workflows" / "check.yml").exists()
    template_ci = run([*git, "show", "HEAD^2:.github/workflows/ci.yml"], repository, env).stdout
    assert (repository / ".github" / "workflows" / "ci.yml").read_text() == template_ci
    assert f"PRIVATE_GIT_TOKEN: ${{{{ secrets.{TOKEN_SECRET} }}}}" in template_ci  # the credential job's
    assert "def total(prices: list[float]) -> float:" in (repository / "src" / "orders_api" / "__init__.py").read_text()
    assert files_holding(tmp_path, git_server.token) == [], "the token was left on disk"

    # 5. An ordinary update to the next release, with stock copier and the docs' command.
    assert run(["copier", "check-update", "--quiet"], repository, env, check=False).returncode == 2
    updated, update_seconds = timed(["copier", "update", "--defaults", "--conflict", "inline"], repository, env)
    print(f"copier update to v0.2.0: {update_seconds:.2f} s")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    answers = yaml.safe_load((repository / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (served, "v0.2.0")
    assert (repository / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert not run([*git, "diff", "--name-only", "--diff-filter=U"], repository, env).stdout
    status = run([*git, "status", "--porcelain"], repository, env).stdout.splitlines()
    assert sorted(status) == sorted([" M .copier-answers.yml", f"?? {NEW_FILE}"]), status
    assert 'requests = "^2.31"' in pyproject.read_text() and 'version = "0.4.2"' in pyproject.read_text()


@pytest.mark.slow
def test_an_answer_the_template_rejects_stops_before_any_change_and_names_the_fix(
    tmp_path: Path, git_server: GitServer, served: str
) -> None:
    env = adopter_env(tmp_path, git_server)
    seed = (SEED / "pyproject.toml").read_text()
    hostile = seed.replace('description = "Order intake service', 'description = "Order\\u001b[2J intake service')
    repository = legacy_repository(tmp_path / "orders-api", env, hostile)
    before = repository_state(repository, env)

    rejected = run_adopt(repository, env, served)
    assert rejected.returncode == 1
    assert (
        'The template rejected the answer description = "Order\\x1b[2J intake service of the example organization" '
        "(from [tool.poetry] description): has an invisible character." in rejected.stderr
    ), rejected.stderr
    assert "--data description=VALUE" in rejected.stderr and "Nothing in the repository was changed" in rejected.stderr
    assert rejected.stderr.strip() in DOCS.read_text(), "docs/adopting.md shows this message as it is"
    assert "\x1b" not in rejected.stdout + rejected.stderr
    assert repository_state(repository, env) == before

    # The correction it names is the way through; data for no question is said, not lost quietly.
    corrected = run_adopt(repository, env, served, "v0.1.0", "description=Order intake", "colour=blue")
    assert corrected.returncode == 0, corrected.stdout + corrected.stderr
    answers = yaml.safe_load((repository / ".copier-answers.yml").read_text())
    assert answers["description"] == "Order intake" and "colour" not in answers
    assert "Note: --data colour is not in .copier-answers.yml" in corrected.stdout


@pytest.mark.slow
def test_renovate_proposes_the_next_template_release_to_an_adopted_repository(
    tmp_path: Path, git_server: GitServer, served: str
) -> None:
    """Renovate's copier manager reads what adoption recorded: the template's https URL and tag."""
    require_renovate()
    env = adopter_env(tmp_path, git_server)
    repository = legacy_repository(tmp_path / "orders-api", env)
    point_at_server(repository, git_server)
    commit_all(repository, env, "Private dependencies on the organization's server")
    adopted = run_adopt(repository, env, served, "v0.1.0")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    # The guide's resolution, short of locking: Renovate reads the answers file.
    for command in (
        ["git", "checkout", "--theirs", "--", "pyproject.toml"],
        ["git", "checkout", "--theirs", "--", "README.md"],
        ["git", "checkout", "--ours", "--", "src/orders_api/__init__.py"],
        ["git", "rm", "-q", "--", ".github/workflows/check.yml"],
    ):
        run(documented(*command), repository, env)
    run(["sh", "-c", documented("git add -A && git commit --no-edit")[0]], repository, env)

    found = Renovate(tmp_path / "renovate", git_server.ca_bundle).local(
        repository, {"hostRules": [host_rule(git_server)]}, **secrets_env(git_server)
    )
    print(f"\nrenovate --platform=local on the adopted repository: {found.seconds:.1f} s")
    template = found.dependency(served)
    assert (template.manager, template.datasource, template.current) == ("copier", "git-tags", "v0.1.0")
    assert [(update.update_type, update.new) for update in template.updates] == [("minor", "v0.2.0")]
    assert files_holding(tmp_path, git_server.token) == []

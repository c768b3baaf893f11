"""An organization's Renovate keeps generated projects current: template releases and private tags.

The real Renovate (tests/support/renovate.py) runs against the session's HTTPS git server, which
stands in for a GitHub Enterprise Server with a port (https://127.0.0.1:PORT):

- Template updates: a tagged copy of this template is served from the server, a project is
  generated from its v0.1.0 with stock copier, and Renovate's copier manager finds v0.2.0 and its
  own update step applies it, with Renovate's default admin settings and no --trust. The step's
  git reaches the template only through Renovate's hostRules, and a project generated from
  copier's `gh:` shorthand gets no updates.
- Private tags: the generated renovate.json plus the hostRules entry an Enterprise Server
  organization adds gets core-lib's newer tag proposed; without that entry the server answers 401
  and nothing is proposed. Commit pins stay where they are and branch pins are skipped.
- The generated renovate.json passes Renovate's own validator for every option set.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from support import OPTION_SETS, TREE, Bake, Project, answers_for, run, tool_env
from support.engines import STOCK_COPIER
from support.git_credentials import credential_helper_env, files_holding
from support.gitserver import LATER_TAG, TAG, GitServer
from support.renovate import (
    SECRET_NAME,
    SECRET_REFERENCE,
    LocalRun,
    Renovate,
    host_rule,
    require_renovate,
    secrets_env,
    validate_repository_config,
)
from support.template_copy import commit_all, copy_template

pytestmark = pytest.mark.slow

GROUP = "private git dependencies"  # the generated renovate.json's group of private tags
TEMPLATE_CHANGE = ".hypothesis/\n"  # v0.2.0 ignores one more cache directory ...
NEW_FILE, NEW_FILE_TEXT = ".editorconfig", "root = true\n\n[*]\nend_of_line = lf\n"  # ... and adds a file


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module", autouse=True)
def renovate_installed() -> None:
    """Every test here runs Renovate: skip (or fail in CI) before building anything without it."""
    require_renovate()


def set_renovate_config(project: Path, change: dict[str, object], env: dict[str, str]) -> dict[str, object]:
    """The project's renovate.json with top-level keys added, committed."""
    config = json.loads((project / "renovate.json").read_text())
    config.update(change)
    (project / "renovate.json").write_text(json.dumps(config, indent=2) + "\n")
    commit_all(project, env, "Renovate config")
    return config


def served(server: GitServer, repository: str) -> set[int]:
    """The statuses the server answered for one repository since the last look."""
    return {r.status for r in server.take_requests() if r.repository == f"{server.org}/{repository}"}


def report(name: str, found: LocalRun) -> None:
    print(f"\n{name}: renovate --platform=local {found.seconds:.1f} s, exit {found.returncode}")
    for line in found.update_lines() or ["(no update proposed)"]:
        print(f"  {line}")


# ----------------------------------------------------------------------------- template updates


@pytest.fixture(scope="module")
def template_project(tmp_path_factory: pytest.TempPathFactory, git_server: GitServer) -> tuple[Path, str]:
    """(project generated from the served template's v0.1.0 and committed, the template's URL).

    The template is a copy of this working tree tagged v0.1.0, then v0.2.0 with one change and
    one new file, served as acme/python-template."""
    root = tmp_path_factory.mktemp("template-project")
    env = tool_env(root / "home")
    template = copy_template(root / "template", env)  # tagged v0.1.0
    tree = template / TREE.name
    with (tree / ".gitignore").open("a") as ignore:
        ignore.write(TEMPLATE_CHANGE)
    (tree / NEW_FILE).write_text(NEW_FILE_TEXT)
    commit_all(template, env, "v0.2.0")
    run(["git", "tag", "v0.2.0"], template, env)
    url = git_server.publish(template, "python-template")

    # Generated as a bot's job or a developer would: stock copier, the template's URL, the token
    # reaching git only through the environment.
    project = root / "project"
    bot_env = {**env, **git_server.env(), **credential_helper_env(git_server, SECRET_NAME)}
    answers = [f"github_host={git_server.host}", f"github_org={git_server.org}", f"private_dependencies=core-lib@{TAG}"]
    run(
        [str(STOCK_COPIER), "copy", "--defaults", "--quiet", "--vcs-ref", "v0.1.0"]
        + [option for answer in answers for option in ("--data", answer)]
        + [url, str(project)],
        root,
        bot_env,
    )
    commit_all(project, env, "Generated", init=True)
    assert not files_holding(root, git_server.token)
    return project, url


def test_renovate_finds_the_template_release_in_the_copier_answers(
    tmp_path: Path, git_server: GitServer, template_project: tuple[Path, str]
) -> None:
    project, url = template_project
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == url and answers["_commit"] == "v0.1.0"
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)

    found = renovate.local(project, {"hostRules": [host_rule(git_server)]}, **secrets_env(git_server))
    report("template release", found)

    template = found.dependency(url)
    assert (template.manager, template.datasource, template.current) == ("copier", "git-tags", "v0.1.0")
    assert [(u.update_type, u.new) for u in template.updates] == [("minor", "v0.2.0")]
    assert ("copier", "v0.2.0") in [(dep.manager, update.new) for dep, update in found.proposed()]
    assert not files_holding(tmp_path, git_server.token)


def test_a_project_generated_from_the_gh_shorthand_gets_no_template_updates(
    tmp_path: Path, git_server: GitServer, template_project: tuple[Path, str]
) -> None:
    """copier records `_src_path` as typed; Renovate cannot turn copier's `gh:org/repo` shorthand
    into a git URL, so only a project generated from the template's URL gets update PRs."""
    project, _ = template_project
    clone = tmp_path / "project"
    env = tool_env(tmp_path / "home")
    run(["git", "clone", "-q", "--", str(project), str(clone)], tmp_path, env)
    answers = clone / ".copier-answers.yml"
    answers.write_text(
        re.sub(r"^_src_path: .*$", "_src_path: gh:acme/python-template", answers.read_text(), flags=re.M)
    )
    commit_all(clone, env, "Answers from the gh: shorthand")
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)

    found = renovate.local(clone, {"hostRules": [host_rule(git_server)]}, **secrets_env(git_server))

    assert found.dependency("gh:acme/python-template").updates == ()
    assert found.log.with_message("Failed to convert copier _src_path to an HTTP(S) URL")
    assert "copier" not in [dep.manager for dep, _ in found.proposed()]


def test_renovate_copier_step_applies_the_template_release_without_trust(
    tmp_path: Path, git_server: GitServer, template_project: tuple[Path, str]
) -> None:
    project, _ = template_project
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)

    # The same hostRules entry, as Renovate holds it once the secret is resolved.
    done = renovate.copier_update(project, "v0.2.0", host_rules=[host_rule(git_server, git_server.token)])
    print(f"\nRenovate's copier update step: {done.seconds:.1f} s")
    for command in done.commands:
        print(f"  {command}")

    assert done.returncode == 0, done.output
    assert done.settings == {"allowScripts": False, "exposeAllEnv": False, "ignoreScripts": True}
    copier_commands = [command for command in done.commands if command.startswith("copier ")]
    assert copier_commands == [
        "copier update --skip-answered --defaults --answers-file .copier-answers.yml --vcs-ref v0.2.0"
    ]
    assert not done.errors, done.errors
    # What Renovate would commit on its branch: the template's change, the new file, the new tag.
    assert done.files[".gitignore"].endswith(TEMPLATE_CHANGE)
    assert done.files[NEW_FILE] == NEW_FILE_TEXT
    assert yaml.safe_load(done.files[".copier-answers.yml"])["_commit"] == "v0.2.0"
    assert (done.working_tree / ".gitignore").read_text() == done.files[".gitignore"]
    assert not files_holding(tmp_path, git_server.token), "the token was left on disk"
    assert not files_holding(project, git_server.token)


def test_renovate_copier_step_reaches_the_template_only_through_host_rules(
    tmp_path: Path, git_server: GitServer, template_project: tuple[Path, str]
) -> None:
    """A credential in the bot's own environment never reaches copier: Renovate hands its commands
    only an allow-list of variables plus the git config it derives from hostRules."""
    project, _ = template_project
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)
    git_server.take_requests()

    done = renovate.copier_update(project, "v0.2.0", **credential_helper_env(git_server, SECRET_NAME))

    assert done.returncode == 0, done.output
    assert not {"GIT_CONFIG_COUNT", SECRET_NAME} & set(done.command_env), done.command_env
    assert served(git_server, "python-template") == {401}
    assert len(done.errors) == 1 and "could not read Username" in done.errors[0], done.errors
    assert list(done.files) == [], "a failed update changed files"
    assert yaml.safe_load((done.working_tree / ".copier-answers.yml").read_text())["_commit"] == "v0.1.0"


# ----------------------------------------------------------------------------- private tags


@pytest.fixture(scope="module")
def pinned_lib(git_server: GitServer) -> str:
    """A copy of core-lib served as pinned-lib, for a commit pin whose branch has moved on; its
    commit of v1.0.0."""
    git_server.publish(git_server.root / git_server.org / "core-lib.git", "pinned-lib")
    return run(
        ["git", "rev-parse", f"{TAG}^{{commit}}"], git_server.root / git_server.org / "core-lib.git"
    ).stdout.strip()


@pytest.fixture
def tags_project(bake: Bake, tmp_path: Path, git_server: GitServer, pinned_lib: str) -> Path:
    """A generated project on the server's host: core-lib by tag, app-lib by branch, pinned-lib by
    commit; committed, as Renovate reads only tracked files."""
    dependencies = f"core-lib@{TAG}, app-lib@main, pinned-lib@{pinned_lib}"
    overrides = {"github_host": git_server.host, "github_org": git_server.org, "private_dependencies": dependencies}
    project = bake(overrides).path
    poetry = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]["dependencies"]
    assert poetry["core-lib"] == {"git": git_server.url("core-lib"), "tag": TAG}
    assert poetry["app-lib"] == {"git": git_server.url("app-lib"), "branch": "main"}
    assert poetry["pinned-lib"] == {"git": git_server.url("pinned-lib"), "rev": pinned_lib}
    commit_all(project, tool_env(tmp_path / "home"), "Generated", init=True)
    return project


def test_private_tag_update_with_the_host_rule_in_the_repository_config(
    tmp_path: Path, git_server: GitServer, tags_project: Path
) -> None:
    """The generated renovate.json plus the hostRules entry, the token in RENOVATE_SECRETS: the
    newer tag is proposed, the commit pin stays, the branch pin is skipped."""
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)
    set_renovate_config(tags_project, {"hostRules": [host_rule(git_server)]}, tool_env(tmp_path / "home"))
    git_server.take_requests()

    found = renovate.local(tags_project, **secrets_env(git_server))
    report("private tags, hostRule in renovate.json", found)

    core = found.dependency("core-lib")
    assert (core.manager, core.datasource, core.current) == ("poetry", "git-tags", TAG)
    assert [(u.update_type, u.new, u.branch) for u in core.updates] == [
        ("minor", LATER_TAG, "renovate/" + GROUP.replace(" ", "-"))
    ]
    assert served(git_server, "core-lib") == {401, 200}  # git's first try is anonymous

    # The commit pin: the lookup sees the newer commit on main, the generated rule keeps the pin.
    pinned = found.dependency("pinned-lib")
    newest = run(["git", "rev-parse", "main"], git_server.root / git_server.org / "core-lib.git").stdout.strip()
    assert (pinned.datasource, [(u.update_type, u.new) for u in pinned.updates]) == ("git-refs", [("digest", newest)])
    branch = found.dependency("app-lib")
    assert (branch.skip_reason, branch.updates) == ("git-dependency", ())
    assert [(dep.name, update.new) for dep, update in found.proposed()] == [("core-lib", LATER_TAG)]
    assert not files_holding(tmp_path, git_server.token)


def test_private_tag_update_with_the_host_rule_and_secret_in_the_admin_config(
    tmp_path: Path, git_server: GitServer, tags_project: Path
) -> None:
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)
    admin = {"hostRules": [host_rule(git_server)], "secrets": {SECRET_NAME: git_server.token}}

    found = renovate.local(tags_project, admin)
    report("private tags, hostRule and secret in the admin config", found)

    assert [(dep.name, update.new) for dep, update in found.proposed()] == [("core-lib", LATER_TAG)]
    assert not files_holding(tmp_path, git_server.token)


@pytest.mark.parametrize(
    ("rule", "git_says"),
    [
        pytest.param("no-host-rule", "could not read Username for 'https://{host}'", id="no-host-rule"),
        # A bare token goes out as the user name (Renovate redacts it in the log), with no password.
        pytest.param("token-only", "could not read Password for 'https://**redacted**@{host}'", id="token-only"),
    ],
)
def test_without_the_host_rule_the_server_answers_401_and_nothing_is_proposed(
    tmp_path: Path, git_server: GitServer, tags_project: Path, rule: str, git_says: str
) -> None:
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)
    rules = [] if rule == "no-host-rule" else [{"matchHost": f"https://{git_server.host}", "token": SECRET_REFERENCE}]
    git_server.take_requests()

    found = renovate.local(tags_project, {"hostRules": rules}, **secrets_env(git_server))
    report(f"private tags, hostRules {rules}", found)

    assert served(git_server, "core-lib") == {401}
    # git's answer to the 401 when it has no (complete) credential to offer, as Renovate logs it.
    assert found.log.contains(git_says.format(host=git_server.host))
    assert found.log.with_message(f"Failed to look up git-tags package {git_server.url('core-lib')}")
    assert found.dependency("core-lib").updates == ()
    assert found.proposed() == []


def test_without_the_commit_pin_rule_renovate_moves_the_pin_to_the_newest_commit(
    tmp_path: Path, git_server: GitServer, tags_project: Path
) -> None:
    """The planted fault: the generated rule is what keeps a commit pin where it is."""
    config = json.loads((tags_project / "renovate.json").read_text())
    rules = [rule for rule in config["packageRules"] if rule.get("matchDatasources") != ["git-refs"]]
    assert len(rules) == len(config["packageRules"]) - 1
    env = tool_env(tmp_path / "home")
    set_renovate_config(tags_project, {"packageRules": rules, "hostRules": [host_rule(git_server)]}, env)
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)

    found = renovate.local(tags_project, **secrets_env(git_server))
    report("private tags, the commit-pin rule removed", found)

    assert sorted((dep.name, update.update_type) for dep, update in found.proposed()) == [
        ("core-lib", "minor"),
        ("pinned-lib", "digest"),
    ]


def test_a_repository_config_naming_a_missing_secret_stops_renovate(
    tmp_path: Path, git_server: GitServer, tags_project: Path
) -> None:
    """Why the generated renovate.json only describes the hostRules entry: with the entry in the
    file and no such secret, Renovate stops for the whole repository."""
    set_renovate_config(tags_project, {"hostRules": [host_rule(git_server)]}, tool_env(tmp_path / "home"))
    renovate = Renovate(tmp_path / "renovate", git_server.ca_bundle)

    found = renovate.local(tags_project)

    invalid = found.log.with_message("Repository has invalid config")
    assert invalid and invalid[0]["err"]["validationError"] == "Unknown secrets name", found.output
    assert not found.log.with_message("packageFiles with updates")


# ----------------------------------------------------------------------------- the generated renovate.json


def test_renovate_validator_accepts_the_generated_config_of_every_option_set(rendered: dict[str, Project]) -> None:
    checked = []
    for name, overrides in OPTION_SETS.items():
        if answers_for(overrides)["update_bot"] == "renovate":
            result = validate_repository_config(rendered[name].path)
            assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"
            checked.append(name)
    assert {"defaults", "ghes-port"} <= set(checked)


def test_renovate_validator_rejects_a_misspelled_option(tmp_path: Path) -> None:
    (tmp_path / "renovate.json").write_text('{"copier": {"enabld": true}}\n')
    result = validate_repository_config(tmp_path)
    assert result.returncode == 1 and "Invalid configuration option: copier.enabld" in result.stdout + result.stderr


def test_generated_config_takes_templates_keeps_commit_pins_and_names_the_enterprise_host_rule(
    rendered: dict[str, Project],
) -> None:
    group = {"matchManagers": ["poetry"], "matchDatasources": ["github-tags", "git-tags"], "groupName": GROUP}
    keep_commit_pins = {
        "matchManagers": ["poetry"],
        "matchDatasources": ["git-refs"],
        "matchUpdateTypes": ["digest"],
        "enabled": False,
    }
    for name in ("defaults", "ghes-port"):
        text = rendered[name].read("renovate.json")
        config = json.loads(text)
        assert config["copier"]["enabled"] is True, name
        rules = [{key: value for key, value in rule.items() if key != "description"} for rule in config["packageRules"]]
        assert group in rules and keep_commit_pins in rules, name
        # Renovate resolves every secret reference in a repository config, descriptions included,
        # and stops when one is missing: the file only describes the entry.
        assert not re.search(r"\{\{ *secrets\.", text), name
    assert len(rendered["defaults"].json("renovate.json")["description"]) == 1
    enterprise = " ".join(rendered["ghes-port"].json("renovate.json")["description"])
    for part in ('matchHost "https://git.example.internal:8443"', 'username "x-access-token"', SECRET_NAME):
        assert part in enterprise

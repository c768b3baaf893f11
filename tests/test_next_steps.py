"""After generating, both engines print the same next steps, and the generated README has them.

cookiecutter and stock copier run through their command lines, as people run them. The text is
defined once (copier.yml's `_message_after_copy`, from templates/next_steps.jinja): copier prints
it itself; cookiecutter's hooks/post_gen_project.py prints it once the files exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from support import BIN, OPTION_SETS, ROOT
from support.engines import cookiecutter_cli, copier_cli

LAST_LINE = 'README.md says more ("Right after generating").'
CASES = [
    "defaults",
    "no-private-deps",
    "token-several-deps",
    "github-app",
    "ssh",
    "dependabot-mit-minimal",
    "ghes-app-dependabot",
]


def message(stderr: str) -> str:
    """The next steps out of an engine's stderr: from their first line to their last."""
    match = re.search(r"^Next steps: .*?^" + re.escape(LAST_LINE) + "$", stderr, re.S | re.M)
    assert match, f"no next steps in:\n{stderr}"
    return match[0]


def test_copier_runs_no_hook_or_task_and_cookiecutter_prints_the_message_from_its_hook() -> None:
    """Stock copier renders only the project tree (`_subdirectory`), so it never sees hooks/."""
    settings = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert not {"_tasks", "_jinja_extensions", "_migrations"} & set(settings)
    assert "next_steps.jinja" in settings["_message_after_copy"]
    assert not (
        ROOT / settings["_subdirectory"].removeprefix("{% raw %}").removesuffix("{% endraw %}") / "hooks"
    ).exists()
    assert "next_steps(cookiecutter)" in (ROOT / "hooks" / "post_gen_project.py").read_text()


def test_cookiecutter_prints_the_next_steps_once_the_files_exist(tmp_path: Path) -> None:
    """The directory is listed the moment the message's first line arrives."""
    command = [str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(ROOT)]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as process:
        assert process.stderr is not None
        listing = None
        for line in process.stderr:
            if line.startswith("Next steps:"):
                listing = sorted(path.name for path in (tmp_path / "out" / "example-service").glob("*"))
        assert process.wait(timeout=120) == 0
    assert listing is not None, "no next steps printed"
    assert {"README.md", "pyproject.toml", "src", "tests"} <= set(listing), listing


@pytest.mark.parametrize("case", CASES)
def test_both_engines_print_the_same_next_steps_and_the_readme_has_them(case: str, tmp_path: Path) -> None:
    overrides = OPTION_SETS[case]
    cookiecutter = cookiecutter_cli(overrides, tmp_path / "cc", tmp_path / "cc-home")
    assert cookiecutter.returncode == 0, cookiecutter.stderr
    project = next((tmp_path / "cc").iterdir())
    # copier into the very path cookiecutter wrote to, so `_copier_conf.dst_path` reads the same.
    destination = tmp_path / "copier" / project.name
    destination.parent.mkdir()
    copier = copier_cli(overrides, destination)
    assert copier.returncode == 0, copier.stderr

    printed = message(cookiecutter.stderr)
    assert message(copier.stderr).replace(str(destination), str(project)) == printed
    print(printed)
    assert printed.count("Next steps:") == 1, "printed once"
    assert f"  cd {project}\n  git init -b main\n  poetry lock\n" in printed

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    has_dependencies = bool(answers["private_dependencies"].strip())
    assert ("`poetry lock` reads the private repositories" in printed) == has_dependencies
    mode = answers["git_auth"]
    expected = {
        "token": ["organization secret POETRY_GIT_TOKEN", "Dependabot secret POETRY_GIT_TOKEN"],
        "github-app": ["organization variable APP_CLIENT_ID", "organization secret APP_PRIVATE_KEY", "GitHub App"],
        "ssh": ["organization secret SSH_PRIVATE_KEY", "organization variable SSH_KNOWN_HOSTS"],
    }[mode]
    for needed in expected:
        assert needed in printed, needed
    if answers.get("package_index_credentials"):
        assert "organization secret PACKAGE_INDEX_PASSWORD" in printed
    if answers["update_bot"] == "dependabot":
        assert f"Dependabot secret {answers.get('token_secret_name', 'POETRY_GIT_TOKEN')}" in printed
    host = answers["github_host"]
    if host != "github.com":
        assert f"GH_HOST={host} gh repo create" in printed and f"gh api --hostname {host} -X PUT" in printed

    # Every command and every item of the message is a line of the generated README.
    readme_lines = {line.strip() for line in (project / "README.md").read_text().splitlines()}
    steps = [line.strip() for line in printed.splitlines() if line.startswith("  ")]
    assert len(steps) >= 8
    missing = [line for line in steps if line not in readme_lines and not line.startswith("cd ")]
    assert missing == [], "in the message but not in README.md"


CROSS_ORG = {
    "token": "POETRY_GIT_TOKEN must hold a classic token (scope repo) of a machine user with read access in each",
    "poetry-http-basic": "ORG_READ_TOKEN must hold a classic token (scope repo) of a machine user with read access",
    "ssh": "the machine user whose key is SSH_PRIVATE_KEY needs read access in each",
}


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("mode", [*CROSS_ORG, "github-app"])
def test_a_dependency_in_another_organization_gets_what_each_mode_needs(mode: str, tmp_path: Path) -> None:
    """A fine-grained token, like an App installation, reads one owner's repositories."""
    overrides = {
        "git_auth": mode,
        "private_dependencies": "core-lib@v1.0.0, other-org/tools@main",
        "token_secret_name": "ORG_READ_TOKEN" if mode == "poetry-http-basic" else "POETRY_GIT_TOKEN",
    }
    copier = copier_cli(overrides, tmp_path / "project")
    if mode == "github-app":
        assert copier.returncode != 0 and "an App reaches only example-org, not other-org/tools" in copier.stderr
        return
    assert copier.returncode == 0, copier.stderr
    printed, readme = words(message(copier.stderr)), words((tmp_path / "project" / "README.md").read_text())
    assert "Dependencies live in example-org and other-org" in printed
    assert CROSS_ORG[mode] in printed and CROSS_ORG[mode] in readme
    # The newcomer's own fine-grained token (README option B) has the same limit.
    assert "so it cannot read those of other-org: take option A or C" in readme
    help_text = words(yaml.safe_load((ROOT / "copier.yml").read_text())["git_auth"]["help"])
    assert "reads one owner's repositories, so for dependencies in other orgs, a classic token" in help_text


def test_dependencies_in_the_project_s_organization_get_no_such_warning(tmp_path: Path) -> None:
    copier = copier_cli({"private_dependencies": "core-lib@v1.0.0, example-org/tools@main"}, tmp_path / "project")
    assert copier.returncode == 0, copier.stderr
    readme = (tmp_path / "project" / "README.md").read_text()
    assert "Dependencies live in" not in copier.stderr and "Dependencies live in" not in readme
    assert "cannot\nread those of" not in readme and "a fine-grained token\n(resource owner `example-org`" in readme

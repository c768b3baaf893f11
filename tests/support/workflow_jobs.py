"""Run a rendered workflow's jobs one after another, each on a fresh runner, on this machine.

A job's steps run through tests/support/workflow_steps.py (the workflow's default shell made
explicit); its `needs` context comes from the jobs run before it. Each job gets a runner of its own:
a new checkout (a copy of the project), HOME, runner temporary folder and TMPDIR, so that nothing
passes from one job to the next except what the workflow hands over itself: job outputs, and the
Actions cache, whose service is a folder here (`CacheService`).

    cache = CacheService(tmp / "cache-service")
    context = Context(workspace=tmp, runner_temp=tmp, base_env={}, uses={...})  # per job
    fetch = JobRun(workflow, "private-sources", Runner.fresh(tmp / "job-1", project, env), context)
    fetch.execute()
    # a new Context, with needs={"private-sources": fetch.needs_entry()}
    lint = JobRun(workflow, "lint", Runner.fresh(tmp / "job-2", project, env), lint_context)
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.workflow_steps import ActionRun, Context, StepResult, WorkflowError

SETUP_ACTION = "./.github/actions/setup-project"


@dataclass
class Runner:
    """One fresh runner: its checkout, HOME, temporary folders, and the environment it starts with."""

    root: Path
    workspace: Path
    home: Path
    temp: Path
    env: dict[str, str]

    @classmethod
    def fresh(cls, root: Path, checkout: Path, env: dict[str, str], workspace: Path | None = None) -> Runner:
        """A runner under `root`; its checkout at `workspace`, emptied first: GitHub checks out every
        job of a repository at the same path, which a restored virtualenv's paths depend on."""
        home, temp, tmpdir = root / "home", root / "runner-temp", root / "tmp"
        workspace = workspace or root / "work"
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.copytree(checkout, workspace, symlinks=True)
        for folder in (home, temp, tmpdir):
            folder.mkdir(parents=True, exist_ok=True)
        return cls(root, workspace, home, temp, {**env, "HOME": str(home), "TMPDIR": str(tmpdir)})

    def path(self, given: str) -> Path:
        """A cache path as actions/cache reads it: ~ is HOME, a relative path is in the workspace."""
        if given.startswith("~/"):
            return self.home / given[2:]
        return Path(given) if Path(given).is_absolute() else self.workspace / given


class CacheService:
    """The Actions cache of one repository: key -> a folder holding what was saved under it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, Path] = {}
        self.restored: list[str] = []

    def restore(self, runner: Runner) -> Callable[[dict[str, str]], dict[str, str]]:
        def handler(given: dict[str, str]) -> dict[str, str]:
            keys = [given["key"], *[line for line in given.get("restore-keys", "").splitlines() if line.strip()]]
            found = next((key for key in keys if key in self.entries), None)
            if found is None:
                found = next((k for prefix in keys[1:] for k in sorted(self.entries) if k.startswith(prefix)), None)
            if found is None:
                if given.get("fail-on-cache-miss") == "true":
                    raise WorkflowError(f"cache miss for {given['key']} with fail-on-cache-miss")
                return {"cache-hit": "false"}
            shutil.copytree(self.entries[found], runner.path(given["path"]), symlinks=True, dirs_exist_ok=True)
            self.restored.append(found)
            return {"cache-hit": "true" if found == given["key"] else "false", "cache-matched-key": found}

        return handler

    def save(self, runner: Runner) -> Callable[[dict[str, str]], dict[str, str]]:
        def handler(given: dict[str, str]) -> dict[str, str]:
            source, key = runner.path(given["path"]), given["key"]
            if key in self.entries:  # a cache entry is immutable: the second save of a key fails
                return {}
            if source.exists():
                kept = self.root / re.sub(r"[^\w.-]", "_", key)
                shutil.copytree(source, kept, symlinks=True)
                self.entries[key] = kept
            return {}

        return handler


def job_action(workflow: Path, job: str, into: Path) -> Path:
    """The job's steps as a composite action file, each run step with the workflow's default shell."""
    document = yaml.safe_load(workflow.read_text())
    shell = ((document.get("defaults") or {}).get("run") or {}).get("shell", "bash")
    steps = [
        {**step, "shell": step.get("shell", shell)} if "run" in step else step
        for step in document["jobs"][job]["steps"]
    ]
    path = into / f"job-{job}.yml"
    path.write_text(yaml.safe_dump({"name": job, "runs": {"using": "composite", "steps": steps}}, sort_keys=False))
    return path


@dataclass
class JobRun:
    """One job of a workflow on its own runner. `context` is a Context without workspace, temp or env."""

    workflow: Path
    job: str
    runner: Runner
    context: Context
    action_skip: set[str] = field(default_factory=set)  # steps of the setup action not to run
    setup: ActionRun | None = None

    def __post_init__(self) -> None:
        self.context.workspace = self.runner.workspace
        self.context.runner_temp = self.runner.temp
        self.context.base_env = self.runner.env
        self.context.uses.setdefault(SETUP_ACTION, self._setup_action)
        spec = yaml.safe_load(self.workflow.read_text())["jobs"][self.job]
        missing = set(_needs(spec)) - set(self.context.needs)
        if missing:
            raise WorkflowError(f"job {self.job} needs {sorted(missing)}, which did not run")
        self.spec = spec
        self.run = ActionRun(job_action(self.workflow, self.job, self.runner.root), {}, self.context)

    def _setup_action(self, given: dict[str, str]) -> dict[str, str]:
        action = self.runner.workspace / SETUP_ACTION / "action.yml"
        nested = Context(
            **{**self.context.__dict__, "uses": {k: v for k, v in self.context.uses.items() if k != SETUP_ACTION}},
        )
        nested.skip = set(self.action_skip)
        self.setup = ActionRun(action, given, nested)
        self.setup.run()
        # A failed step of the action fails the job: its later steps are skipped.
        self.run.failed = self.run.failed or self.setup.failed
        return {}

    def execute(self, until: str | None = None) -> list[StepResult]:
        return self.run.run(until=until)

    @property
    def failed(self) -> bool:
        return self.run.failed

    def outputs(self) -> dict[str, str]:
        return {name: self.run.resolve(value) for name, value in (self.spec.get("outputs") or {}).items()}

    def needs_entry(self) -> dict[str, Any]:
        """What a later job's `needs.<this job>` holds."""
        return {"outputs": self.outputs(), "result": "failure" if self.failed else "success"}

    def results(self) -> list[StepResult]:
        return [*self.run.results, *(self.setup.results if self.setup else [])]

    def result(self, name: str) -> StepResult:
        found = [result for result in self.results() if result.name == name]
        if len(found) != 1:
            raise WorkflowError(f"step {name!r} ran {len(found)} times in job {self.job}")
        return found[0]

    def log(self) -> str:
        return "\n".join(f"## {r.name}: {r.outcome} ({r.returncode})\n{r.stdout}{r.stderr}" for r in self.results())


def _needs(spec: dict[str, Any]) -> list[str]:
    needs = spec.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)

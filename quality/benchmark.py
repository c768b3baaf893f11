"""Where the time goes: rendering, updating, and the generated project's CI install.

    python3 tasks.py bench [--runs N] [--no-suite] [--only-render] [--anchor TEMPLATE_DIR]
    python3 tasks.py bench --lock-change 1,5,20 [--lock-change-mode ssh|all ...] [--install-before REV]

Prints a Markdown table of medians and spreads. Each engine's render of this template is timed
beside a one-file template rendered by the same engine in the same loop (the floor any template
pays), and reported as a ratio; --anchor adds another template's cookiecutter render the same way.
Install timings run the rendered workflow's
own auth, preflight and install step against a local authenticated git server with two private
dependencies: cold (empty caches), warm (the cache directories the workflow restores, in a fresh
checkout) and no-op (installed already).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOCK_COPIER = ROOT / ".venv-stock-copier" / "bin" / "copier"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.modes import GIT_AUTH_MODES  # noqa: E402  (after the path above)

TREE_NAME = "{{cookiecutter.project_slug}}"

Row = tuple[str, list[float], str]


def measure(action: Callable[[int], object], runs: int, setup: Callable[[int], object] | None = None) -> list[float]:
    times = []
    for index in range(runs):
        if setup:
            setup(index)
        start = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - start)
    return times


def quiet(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


FLOOR_QUESTIONS = {"cookiecutter.json": '{"name": "floor"}\n', "copier.yml": "name:\n  type: str\n  default: floor\n"}


def floor_template(work: Path) -> Path:
    """The smallest template each engine renders: one question, one file. What any template pays."""
    floor = work / "floor"
    for name, text in FLOOR_QUESTIONS.items():
        (floor / name).parent.mkdir(parents=True, exist_ok=True)
        (floor / name).write_text(text)
    tree = floor / "{{cookiecutter.name}}"
    tree.mkdir()
    (tree / "README.md").write_text("# {{ cookiecutter.name }}\n")
    (floor / "copier.yml").write_text(FLOOR_QUESTIONS["copier.yml"] + "_subdirectory: project\n")
    (floor / "project").mkdir()
    (floor / "project" / "README.md").write_text("# {{ name }}\n")
    return floor


def side_by_side(engine: str, templates: dict[str, Path], render: Callable[[Path, Path], None], runs: int) -> list[Row]:
    """Each template's render, alternated in one loop so all see the same load; the last one is the
    floor the others are compared with."""
    times: dict[str, list[float]] = {label: [] for label in templates}
    for index in range(runs):
        for label, source in templates.items():
            start = time.perf_counter()
            render(source, Path(tempfile.mkdtemp(prefix=f"render-{index}-")))
            times[label].append(time.perf_counter() - start)
    floor = statistics.median(times[list(templates)[-1]])
    return [
        (f"{engine}: {label}", measured, f"{statistics.median(measured) / floor:.2f}x the floor")
        for label, measured in times.items()
    ]


def rendering_rows(work: Path, runs: int, anchor: Path | None) -> list[Row]:
    floor = floor_template(work)
    # copier renders a git template from a clean clone; a plain copy of the working tree stands in.
    template = work / "template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv*", "node_modules", "generated"))

    def cookiecutter_cli(source: Path, out: Path) -> None:
        quiet([str(BIN / "cookiecutter"), "--no-input", "-o", str(out), str(source)])

    def copier_cli(source: Path, out: Path) -> None:
        quiet([str(STOCK_COPIER), "copy", "--defaults", "--quiet", str(source), str(out / "project")])

    anchors = {f"anchor {anchor.name}": anchor} if anchor else {}
    rows = side_by_side(
        "cookiecutter CLI", {"this template": template, **anchors, "one-file floor": floor}, cookiecutter_cli, runs
    )
    rows += side_by_side("stock copier CLI", {"this template": template, "one-file floor": floor}, copier_cli, runs)
    return rows


def git(args: list[str], cwd: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com")
    env.update(GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")
    quiet(["git", *args], cwd=cwd, env=env)


def update_rows(work: Path, runs: int) -> list[Row]:
    """`copier update` of a generated repository by one template commit."""
    template = work / "update-template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv*", "node_modules", "generated"))
    git(["init", "-q", "-b", "main"], template)
    git(["add", "-A"], template)
    git(["commit", "-q", "-m", "v1"], template)
    git(["tag", "v1.0.0"], template)
    readme = template / TREE_NAME / "README.md"
    readme.write_text(readme.read_text() + "\nA line added by the next template version.\n")
    git(["commit", "-q", "-am", "v1.1"], template)
    git(["tag", "v1.1.0"], template)

    def setup(index: int) -> None:
        project = work / f"update-{index}"
        quiet([str(STOCK_COPIER), "copy", "--defaults", "--quiet", "--vcs-ref", "v1.0.0", str(template), str(project)])
        git(["init", "-q", "-b", "main"], project)
        git(["add", "-A"], project)
        git(["commit", "-q", "-m", "generated"], project)

    def update(index: int) -> None:
        quiet(
            [str(STOCK_COPIER), "update", "--defaults", "--quiet", "--vcs-ref", "v1.1.0"],
            cwd=work / f"update-{index}",
        )

    return [("stock copier update by one template commit (CLI)", measure(update, runs, setup), "")]


@contextlib.contextmanager
def own_extension(template: Path) -> Iterator[None]:
    """cookiecutter imports a template's Jinja extension by module name, and this tree's
    cookiecutter_questions is imported already: an earlier version renders with its own."""
    if template == ROOT:
        yield
        return
    ours = sys.modules.pop("cookiecutter_questions", None)
    sys.path.insert(0, str(template))
    try:
        yield
    finally:
        sys.path.remove(str(template))
        sys.modules.pop("cookiecutter_questions", None)
        if ours:
            sys.modules["cookiecutter_questions"] = ours


class CiInstall:
    """A template version's rendered setup action, run as CI runs it against a local git server:
    every step, the caches kept in folders the way actions/cache keeps them. Works with the
    single-step action of earlier versions (actions/cache) and the fetch-then-install one
    (actions/cache/restore and save)."""

    def __init__(
        self,
        work: Path,
        server: Any,
        template: Path,
        answers: dict[str, Any] | None = None,
        ssh: Any = None,
        moved: str | None = None,
    ) -> None:
        from support import package_index_url, render, tool_env
        from support.git_credentials import (
            APP_PRIVATE_KEY,
            credential_helper_env,
            repository_settings,
            ssh_through_mount_namespace,
        )

        self.work, self.server, self.ssh = work, server, ssh
        overrides = {
            "github_host": server.host,
            "github_org": server.org,
            "private_dependencies": "app-lib@v1.0.0, core-lib@v1.0.0",
            "package_index_url": package_index_url(),
            **(answers or {}),
        }
        mode = overrides.get("git_auth", "token")
        secret = {"github-app": APP_PRIVATE_KEY, "ssh": ssh.private_key if ssh else ""}.get(mode, server.token)
        self.secrets, self.variables = repository_settings(mode, secret, ssh)
        with own_extension(template):
            self.clean = Path(render("cookiecutter", work / "clean", overrides, template=template).path)
            # `moved`: the same dependencies, one of them at a later commit, for the lock change.
            self.locks = {"as locked": self.clean}
            if moved is not None:
                moved_answers = {**overrides, "private_dependencies": moved}
                self.locks["one moved"] = Path(
                    render("cookiecutter", work / "moved", moved_answers, template=template).path
                )
        self.checkout = work / "checkout" / self.clean.name  # one path, as on a runner
        self.home = work / "home"
        self.tools = work / "bin"  # the ssh client's shim, in SSH mode
        # The credential step runs /usr/bin/ssh with no config: a mount namespace points it at the sshd.
        self.wrap = ssh_through_mount_namespace(ssh, work) if ssh and mode == "ssh" else []
        self.tools.mkdir()
        self.saved = work / "saved-caches"
        self.env = tool_env(self.home, **server.env())
        self.env["PATH"] = f"{self.tools}{os.pathsep}{self.env['PATH']}"
        # The lock a developer commits: made once with their own access.
        developer = tool_env(work / "developer-home", **server.env(), **credential_helper_env(server))
        for project in self.locks.values():
            quiet(["poetry", "lock"], cwd=project, env={**developer, "POETRY_SYSTEM_GIT_CLIENT": "true"})
            shutil.rmtree(project / ".venv", ignore_errors=True)

    def cache_path(self, given: dict[str, str]) -> Path:
        path = given["path"]
        return self.home / path.removeprefix("~/") if path.startswith("~/") else self.checkout / path

    def action_run(self) -> tuple[float, float]:
        """One CI run's (credential job, setup action) seconds, as the rendered steps run them;
        the first is 0 for a version without a credential job."""
        from support.workflow_jobs import job_action
        from support.workflow_steps import ActionRun, Context, setup_inputs

        post_saves: list[dict[str, str]] = []  # actions/cache saves its misses after the job
        # Copying folders stands in for the cache service: its time is not the install's, and
        # it varies most on a busy disk, so it is taken out of the measurement.
        caching = [0.0]

        def restore(given: dict[str, str]) -> dict[str, str]:
            kept = self.saved / given["key"]
            for prefix in [line for line in given.get("restore-keys", "").splitlines() if line.strip()]:
                if kept.exists() or not self.saved.is_dir():
                    break
                matches = [entry for entry in self.saved.iterdir() if entry.name.startswith(prefix)]
                kept = max(matches, key=lambda entry: entry.stat().st_mtime) if matches else kept
            if not kept.exists():
                return {"cache-hit": "false"}
            start = time.perf_counter()
            # The cache's archive is unpacked over whatever is there, as actions/cache does.
            shutil.rmtree(self.cache_path(given), ignore_errors=True)
            shutil.copytree(kept, self.cache_path(given), symlinks=True)
            caching[0] += time.perf_counter() - start
            return {"cache-hit": "true" if kept.name == given["key"] else "false"}

        def restore_then_save(given: dict[str, str]) -> dict[str, str]:
            outputs = restore(given)
            if outputs["cache-hit"] == "false":
                post_saves.append(given)
            return outputs

        def save(given: dict[str, str]) -> dict[str, str]:
            start = time.perf_counter()
            if self.cache_path(given).exists() and not (self.saved / given["key"]).exists():
                shutil.copytree(self.cache_path(given), self.saved / given["key"], symlinks=True)
            caching[0] += time.perf_counter() - start
            return {}

        def context(runner_temp: Path, names: set[str]) -> Context:
            shutil.rmtree(runner_temp, ignore_errors=True)
            runner_temp.mkdir()
            return Context(
                workspace=self.checkout,
                runner_temp=runner_temp,
                base_env=self.env,
                secrets=self.secrets,
                vars=self.variables,
                uses={
                    "actions/checkout": None,
                    "actions/setup-python": lambda given: {"python-path": os.path.realpath(sys.executable)},
                    "actions/cache": restore_then_save,
                    "actions/cache/restore": restore,
                    "actions/cache/save": save,
                    # GitHub would mint an installation token; the server's token stands for it.
                    "actions/create-github-app-token": lambda given: {"token": self.server.token},
                },
                # Poetry is on PATH already: installing and linking it are a runner's business.
                skip={"Install Poetry", "Put Poetry on PATH"} & names,
                wrap=self.wrap,
            )

        def timed(run: ActionRun) -> float:
            caching[0] = 0.0
            start = time.perf_counter()
            results = run.run()
            elapsed = time.perf_counter() - start - caching[0]
            failed = [result for result in results if result.outcome == "failure"]
            if failed:
                raise RuntimeError(f"{failed[0].name} failed:\n{failed[0].stdout}{failed[0].stderr}")
            return elapsed

        workflow = self.checkout / ".github" / "workflows" / "ci.yml"
        credential_seconds, needs = 0.0, {}
        if CREDENTIAL_JOB in yaml.safe_load(workflow.read_text())["jobs"]:
            steps = job_action(workflow, CREDENTIAL_JOB, self.work)
            job = ActionRun(steps, {}, context(self.work / "credential-temp", set()))
            credential_seconds = timed(job)
            outputs = yaml.safe_load(workflow.read_text())["jobs"][CREDENTIAL_JOB]["outputs"]
            needs = {CREDENTIAL_JOB: {"outputs": {name: job.resolve(value) for name, value in outputs.items()}}}
        action = self.checkout / ".github" / "actions" / "setup-project" / "action.yml"
        names = {step.get("name") for step in yaml.safe_load(action.read_text())["runs"]["steps"]}
        install = context(self.work / "runner-temp", names)
        install.needs = needs
        install_seconds = timed(ActionRun(action, setup_inputs(workflow, "lint", install), install))
        for given in post_saves:  # actions/cache's post step
            save(given)
        return credential_seconds, install_seconds

    def fresh_checkout(self, keep_caches: bool, lock: str = "as locked") -> None:
        """A new clone of the repository (at `lock`) and a new runner HOME; the saved caches kept or dropped."""
        shutil.rmtree(self.checkout, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.locks[lock], self.checkout)
        self.home.mkdir()
        if self.ssh:
            from support.git_credentials import ssh_client_for

            ssh_client_for(self.ssh, self.home, self.tools)
        if not keep_caches:
            shutil.rmtree(self.saved, ignore_errors=True)


# The job of ci.yml that holds the org credential and fetches, when the version has one.
CREDENTIAL_JOB = "private-sources"

# The other ways CI can install (--install-modes): answers that change the install step. Every
# git_auth mode of templates/git_auth/modes.yml but token, the default.
MODES: dict[str, dict[str, Any]] = {
    "fork-safe caches": {"fork_safe_caches": True},
    **{mode: {"git_auth": mode} for mode in GIT_AUTH_MODES if mode != "token"},
}


def exported_template(work: Path, revision: str) -> Path:
    """The template as it was at an earlier commit."""
    exported = work / f"template-{revision}"
    if not exported.exists():
        exported.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(exported)], input=archive.stdout, check=True)
    return exported


def install_rows(work: Path, runs: int, before: str | None, modes: bool = False) -> list[Row]:
    """Cold, warm and no-op install, as the rendered CI steps run it (not counting the copying
    that stands in for the cache service), for this template (token mode) and, with
    --install-before REV, for that earlier version beside it; with --install-modes, for each of
    MODES too."""
    from support.gitserver import GitServer, SshGitServer

    versions: dict[str, tuple[Path, dict[str, Any]]] = {"this template": (ROOT, {})}
    if before:
        versions = {f"before ({before})": (exported_template(work, before), {}), **versions}
    if modes:
        versions.update({f"this template, {name}": (ROOT, answers) for name, answers in MODES.items()})
    rows: list[Row] = []
    with GitServer(work / "server") as server, contextlib.ExitStack() as stack:
        ssh = stack.enter_context(SshGitServer(server, work / "sshd")) if modes else None
        installs = {
            label: CiInstall(work / f"install-{i}", server, path, answers, ssh)
            for i, (label, (path, answers)) in enumerate(versions.items())
        }
        times = {label: {"cold": [], "warm": [], "no-op": []} for label in installs}
        fetching = {label: {"cold": [], "warm": []} for label in installs}
        for _ in range(runs):  # alternated, so that every version sees the same load
            for label, install in installs.items():
                install.fresh_checkout(keep_caches=False)
                fetched, installed = install.action_run()
                fetching[label]["cold"].append(fetched)
                times[label]["cold"].append(installed)
                install.fresh_checkout(keep_caches=True)
                fetched, installed = install.action_run()
                fetching[label]["warm"].append(fetched)
                times[label]["warm"].append(installed)
                times[label]["no-op"].append(install.action_run()[1])
    notes = {
        "cold": "empty caches, 2 private deps",
        "warm": "restored caches, fresh checkout",
        "no-op": "installed already",
    }
    for kind in ("cold", "warm"):
        for label, measured in fetching.items():
            if any(measured[kind]):  # a version with a credential job
                note = "its own steps; plus a job start (an estimate: GitHub publishes no figure)"
                rows.append((f"CI credential job, {kind}: {label}", measured[kind], note))
    for kind in ("cold", "warm", "no-op"):
        for label, measured in times.items():
            rows.append((f"CI install, {kind}: {label}", measured[kind], notes[kind]))
    if before:
        for label in installs:
            if label.startswith("this template"):
                ours, theirs = times[label]["warm"], times[f"before ({before})"]["warm"]
                ratio = [statistics.median(ours) / statistics.median(theirs)]
                rows.append((f"CI install, warm: {label} / before", ratio, "ratio"))
    return rows


def lock_change_rows(work: Path, runs: int, before: str | None, counts: list[int], modes: list[str]) -> list[Row]:
    """Cold, warm and "one commit moved" install with each count of private dependencies: the
    lock change that moves the first one to a later commit, the caches of the lock before it
    restored as CI restores them (exact keys and restore-keys). For this template in token mode
    and each of `modes`, each with --install-before REV's version of it beside it."""
    from support.gitserver import GitServer, SshGitServer

    from demo.local_git_server import LATER_TAG, TAG, _package, make_repository

    versions: dict[str, tuple[Path, dict[str, Any]]] = {}
    for mode in ["token", *modes]:
        suffix = "" if mode == "token" else f", {mode}"
        if before:
            versions[f"before ({before}){suffix}"] = (exported_template(work, before), MODES.get(mode, {}))
        versions[f"this template{suffix}"] = (ROOT, MODES.get(mode, {}))
    scenarios = ("cold", "warm", "one commit moved")
    rows: list[Row] = []
    with GitServer(work / "lock-change-server") as server, contextlib.ExitStack() as stack:
        ssh = stack.enter_context(SshGitServer(server, work / "sshd")) if "ssh" in modes else None
        names = [f"plib{number:02d}" for number in range(1, max(counts) + 1)]
        for name in names:  # each with a later commit, tagged, that the lock change moves to
            bare = work / "libraries" / f"{name}.git"
            later = {LATER_TAG: _package(name, 'VALUE = "later"\n', version="1.1.0")}
            make_repository(bare, _package(name, 'VALUE = "first"\n'), later=later)
            server.publish(bare, name)
        installs: dict[tuple[int, str], CiInstall] = {}
        for count in counts:
            pins = [f"{name}@{TAG}" for name in names[:count]]
            moved = ", ".join([f"{names[0]}@{LATER_TAG}", *pins[1:]])
            for i, (label, (path, answers)) in enumerate(versions.items()):
                answers = {**answers, "private_dependencies": ", ".join(pins)}
                installs[count, label] = CiInstall(work / f"lock-{count}-{i}", server, path, answers, ssh, moved=moved)
        times = {key: {scenario: [] for scenario in scenarios} for key in installs}
        fetching: dict[tuple[int, str], list[float]] = {key: [] for key in installs}
        for _ in range(runs):  # alternated, so that every version sees the same load
            for key, install in installs.items():
                install.fresh_checkout(keep_caches=False)
                times[key]["cold"].append(install.action_run()[1])
                install.fresh_checkout(keep_caches=True)
                times[key]["warm"].append(install.action_run()[1])
                install.fresh_checkout(keep_caches=True, lock="one moved")
                fetched, installed = install.action_run()
                fetching[key].append(fetched)
                times[key]["one commit moved"].append(installed)
    for count in counts:
        deps = f"{count} private dep{'s' if count > 1 else ''}"
        for scenario in scenarios:
            for label in versions:
                measured = times[count, label][scenario]
                note = deps + (f", 1 of {count} at a new commit" if "moved" in scenario else "")
                earlier = label.replace("this template", f"before ({before})")
                if before and scenario == "one commit moved" and earlier != label:
                    cold = statistics.median(times[count, earlier]["cold"])
                    note += f"; {statistics.median(measured) / cold:.2f}x its before's cold"
                rows.append((f"CI install, {scenario}: {label}", measured, note))
        for label in versions:
            if any(fetching[count, label]):
                note = f"{deps}, 1 of {count} at a new commit; its own steps"
                rows.append((f"CI credential job, one commit moved: {label}", fetching[count, label], note))
    return rows


def suite_rows() -> list[Row]:
    times = measure(lambda i: quiet([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT), 1)
    return [("the template's test suite", times, "one run")]


def table(rows: list[Row]) -> str:
    lines = ["| measurement | median s | min s | max s | runs | note |", "|---|---:|---:|---:|---:|---|"]
    for name, times, note in rows:
        lines.append(
            f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {len(times)} | {note} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5; installs use 3)")
    parser.add_argument("--no-suite", action="store_true", help="skip timing the template's own test suite")
    parser.add_argument("--only-render", action="store_true", help="time rendering only")
    parser.add_argument("--only-install", action="store_true", help="time the CI install only")
    parser.add_argument(
        "--install-before", metavar="REV", help="an earlier template commit whose CI install runs beside this one"
    )
    parser.add_argument("--install-modes", action="store_true", help="time each git_auth mode and fork-safe caches too")
    parser.add_argument(
        "--lock-change",
        metavar="COUNTS",
        help="comma-separated counts of private dependencies (e.g. 1,5,20): time cold, warm and one "
        "commit moved with each, instead of the other install rows",
    )
    parser.add_argument(
        "--lock-change-mode",
        action="append",
        default=[],
        choices=[*MODES, "all"],
        help="with --lock-change: a mode to time beside token mode (repeatable; all: every one)",
    )
    parser.add_argument(
        "--anchor", type=Path, help="another cookiecutter template directory to render beside this one, for comparison"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="template-bench-") as tmp:
        work = Path(tmp)
        only_install = args.only_install or args.lock_change
        rows = [] if only_install else rendering_rows(work, args.runs, args.anchor)
        if args.lock_change:
            counts = [int(count) for count in args.lock_change.split(",")]
            modes = list(MODES) if "all" in args.lock_change_mode else list(dict.fromkeys(args.lock_change_mode))
            rows += lock_change_rows(work, min(args.runs, 3), args.install_before, counts, modes)
        elif args.only_install:
            rows += install_rows(work, min(args.runs, 3), args.install_before, args.install_modes)
        elif not args.only_render:
            rows += update_rows(work, min(args.runs, 3))
            rows += install_rows(work, min(args.runs, 3), args.install_before, args.install_modes)
    if not args.no_suite and not args.only_render and not only_install:
        rows += suite_rows()
    cpu = f"{os.cpu_count()} cores"
    print(f"Machine: {platform.system()} {platform.machine()}, {cpu}, Python {platform.python_version()}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where the time goes: rendering, updating, and the generated project's CI install.

    python3 tasks.py bench [--runs N] [--no-suite] [--only-render] [--anchor TEMPLATE_DIR]

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
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOCK_COPIER = ROOT / ".venv-stock-copier" / "bin" / "copier"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
TREE_NAME = "{{ cookiecutter.project_slug if checked(cookiecutter) }}"

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


INSTALL_STEP = "Check access to the private dependencies and install"


class CiInstall:
    """The rendered setup action's install step, run as CI runs it, against a local git server."""

    def __init__(self, work: Path, server: object) -> None:
        from support import package_index_url, render, tool_env

        self.work, self.server = work, server
        overrides = {
            "github_host": server.host,
            "github_org": server.org,
            "private_dependencies": "app-lib@v1.0.0, core-lib@v1.0.0",
            "package_index_url": package_index_url(),
        }
        self.clean = render("cookiecutter", work / "clean", overrides).path
        self.checkout = work / "checkout" / self.clean.name  # one path, as on a runner
        self.home = work / "home"
        self.saved = work / "saved-caches"
        self.env = tool_env(self.home, **server.env())
        self.fresh_checkout(restore_caches=False)
        # A lock made once with the step's own environment, as a developer commits it.
        self.action_run(until=INSTALL_STEP)
        step_env = self.last_run.env_for(self.last_run.step(INSTALL_STEP))
        quiet(["poetry", "lock"], cwd=self.checkout, env=step_env)
        shutil.copy(self.checkout / "poetry.lock", self.clean / "poetry.lock")

    def action_run(self, until: str | None = None) -> float:
        from support.workflow_steps import ActionRun, Context, setup_inputs

        context = Context(
            workspace=self.checkout,
            runner_temp=self.work / "runner-temp",
            base_env=self.env,
            secrets={"POETRY_GIT_TOKEN": self.server.token},
            uses={"actions/setup-python": None, "actions/cache": None},
            skip={"Install Poetry"},
        )
        shutil.rmtree(context.runner_temp, ignore_errors=True)
        context.runner_temp.mkdir()
        workflow = self.checkout / ".github" / "workflows" / "ci.yml"
        action = self.checkout / ".github" / "actions" / "setup-project" / "action.yml"
        self.last_run = ActionRun(action, setup_inputs(workflow, "lint", context), context)
        start = time.perf_counter()
        results = self.last_run.run(until=until)
        elapsed = time.perf_counter() - start
        failed = [result for result in results if result.outcome == "failure"]
        if failed:
            raise RuntimeError(f"{failed[0].name} failed:\n{failed[0].stdout}{failed[0].stderr}")
        return elapsed

    def fresh_checkout(self, restore_caches: bool) -> None:
        """A new clone of the repository; with the caches the workflow restores, or empty ones."""
        shutil.rmtree(self.checkout, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.clean, self.checkout)
        self.home.mkdir()
        if restore_caches:
            shutil.copytree(self.saved / ".venv", self.checkout / ".venv", symlinks=True)
            shutil.copytree(self.saved / "pypoetry", self.home / ".cache" / "pypoetry", symlinks=True)

    def save_caches(self) -> None:
        shutil.rmtree(self.saved, ignore_errors=True)
        shutil.copytree(self.checkout / ".venv", self.saved / ".venv", symlinks=True)
        shutil.copytree(self.home / ".cache" / "pypoetry", self.saved / "pypoetry", symlinks=True)


def install_rows(work: Path, runs: int) -> list[Row]:
    """Cold, warm and no-op install, as the rendered CI step runs it (restore time not counted)."""
    from support.gitserver import GitServer

    with GitServer(work / "server") as server:
        install = CiInstall(work / "install", server)
        cold, warm, noop = [], [], []
        for _ in range(runs):
            install.fresh_checkout(restore_caches=False)
            cold.append(install.action_run())
        install.save_caches()
        for _ in range(runs):
            install.fresh_checkout(restore_caches=True)
            warm.append(install.action_run())
            noop.append(install.action_run())
    ratio = statistics.median(cold) / statistics.median(warm)
    return [
        ("CI install, cold (empty caches)", cold, "preflight + poetry sync, 2 private deps"),
        ("CI install, warm (restored .venv + Poetry cache)", warm, f"{ratio:.1f}x faster than cold"),
        ("CI install, no-op (already installed)", noop, "the preflight still asks the server"),
    ]


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
    parser.add_argument(
        "--anchor", type=Path, help="another cookiecutter template directory to render beside this one, for comparison"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="template-bench-") as tmp:
        work = Path(tmp)
        rows = rendering_rows(work, args.runs, args.anchor)
        if not args.only_render:
            rows += update_rows(work, min(args.runs, 3))
            rows += install_rows(work, min(args.runs, 3))
    if not args.no_suite and not args.only_render:
        rows += suite_rows()
    cpu = f"{os.cpu_count()} cores"
    print(f"Machine: {platform.system()} {platform.machine()}, {cpu}, Python {platform.python_version()}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

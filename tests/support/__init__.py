"""What the template's tests share: pytest-cookies' bake and copier's renders, the project they
return, the named option sets, the one table of bad answers, and the tools the tests run.

Tests import from here (`from support import render, OPTION_SETS`), never from conftest.
"""

# isort: off
# First: it puts the template's root (of this copy, for quality/mutate_rules.py) on sys.path.
from support.paths import ROOT, TREE

# isort: on
# The demo reads the index the same way: demo/ is what people run, and the tests prove it.
from demo.package_index import package_index_url
from support.engines import (
    Bake,
    answers_for,
    cookiecutter_verdict,
    copier_answers,
    copier_verdict,
    differences,
    render,
)
from support.option_sets import OPTION_SETS
from support.project import Project
from support.tools import BIN, require_tool, run, tool_env

__all__ = [
    "BIN",
    "Bake",
    "OPTION_SETS",
    "ROOT",
    "TREE",
    "Project",
    "answers_for",
    "cookiecutter_verdict",
    "copier_answers",
    "copier_verdict",
    "differences",
    "package_index_url",
    "render",
    "require_tool",
    "run",
    "tool_env",
]

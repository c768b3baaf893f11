"""Rendering with each engine, and each engine's own verdict on an answer.

Tests bake with cookiecutter through pytest-cookies' `cookies` fixture, wrapped by the `bake`
and `bake_session` fixtures of conftest.py so that a test gets the Project it made:

    project = bake({"git_auth": "ssh"})                     # cookies.bake() -> Project

What the libraries cannot do stays here:

    render("copier", tmp_path, {...})        # copier's own API (run_copy): pytest-copie cannot
                                             # share a session with pytest-cookies
    render("stock-copier", tmp_path, {...})  # copier alone, from its own virtualenv
    differences(ours, theirs)                # the byte-for-byte diff of two engines' trees
    cookiecutter_verdict({"project_slug": "Bad"})   # ("project_slug", reason), or None
    copier_verdict({"project_slug": "Bad"})         # the same from copier's own questionnaire

The test virtualenv has no copier extension package, so its copier is stock too; the
`stock-copier` engine proves it with a virtualenv that holds copier and nothing else.
`render("cookiecutter", destination, ...)` bakes with pytest-cookies' own `Cookies` where no
fixture reaches (helpers deep in a test's calls, the quality tools).
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml
from pytest_cookies.plugin import Cookies

from support.paths import ROOT
from support.project import Project
from support.tools import BIN

# copier alone, made by tasks.py from the copier pin of requirements-test.txt.
STOCK_COPIER = ROOT / ".venv-stock-copier" / "bin" / "copier"
COPIER_PREFIXES = re.compile(r"^(Validation error for question|Invalid choice for) '([^']+)': ")


class Bake:
    """`cookies.bake()` that returns the Project it made, so tests read as sentences about it. A
    bake that fails raises the engine's own error, which pytest-cookies keeps on its result."""

    def __init__(self, cookies: Cookies, output: Path | None = None) -> None:
        self.cookies = cookies
        self.output = output  # where the `cookies` fixture bakes (its tmpdir's cookies/)

    def __call__(self, answers: dict[str, Any] | None = None, template: Path = ROOT) -> Project:
        result = self.cookies.bake(extra_context=dict(answers or {}), template=str(template))
        if result.exception is not None:
            raise result.exception
        return Project(result.project_path, "cookiecutter")

    def written(self) -> list[Path]:
        """Everything inside the bake directories pytest-cookies made: what a failed bake left."""
        assert self.output is not None, "only the function-scoped `bake` knows its output"
        return [path for bake in self.output.iterdir() for path in bake.rglob("*")]


def render(engine: str, destination: Path, overrides: dict[str, Any], template: Path = ROOT) -> Project:
    """Render the template (or a copy of it) into `destination` with these answers."""
    if engine == "cookiecutter":
        config = destination.parent / f"{destination.name}-cookiecutter.yml"
        config.parent.mkdir(parents=True, exist_ok=True)
        home = {"cookiecutters_dir": str(destination) + "-templates", "replay_dir": str(destination) + "-replay"}
        config.write_text(yaml.safe_dump(home))
        return Bake(Cookies(str(template), lambda _: destination, config))(overrides, template)
    if engine == "copier":
        import copier

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a working tree's uncommitted changes are included on purpose
            copier.run_copy(str(template), str(destination), data=overrides, defaults=True, quiet=True)
        return Project(destination, engine)
    if engine == "stock-copier":
        result = copier_cli(overrides, destination, template, quiet=True)
        assert result.returncode == 0, f"stock copier failed:\n{result.stderr}"
        return Project(destination, engine)
    raise ValueError(f"unknown engine {engine!r}")


def copier_cli(
    overrides: dict[str, Any], destination: Path, template: Path = ROOT, quiet: bool = False
) -> subprocess.CompletedProcess[str]:
    """Stock copier's `copy` as a user runs it, the answers in a data file; its stderr holds the
    next steps unless `quiet`."""
    data = destination.parent / f"{destination.name}-data.yml"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text(yaml.safe_dump(overrides))
    command = [str(STOCK_COPIER), "copy", "--defaults", *(["--quiet"] if quiet else []), "--data-file", str(data)]
    return subprocess.run([*command, str(template), str(destination)], capture_output=True, text=True, timeout=120)


def cookiecutter_cli(
    overrides: dict[str, Any], output: Path, home: Path, template: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """The cookiecutter command with the answers in a user config's default_context (typed, as
    YAML gives them), and nothing else of the user's; its hooks print to stderr."""
    config = home / "cookiecutter.yml"
    home.mkdir(parents=True, exist_ok=True)
    settings = {"cookiecutters_dir": str(home / "templates"), "replay_dir": str(home / "replay")}
    config.write_text(yaml.safe_dump({**settings, "default_context": overrides}))
    command = [str(BIN / "cookiecutter"), "--no-input", "--config-file", str(config), "-o", str(output), str(template)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def differences(ours: Project, theirs: Project) -> list[str]:
    """The files two engines rendered differently, byte for byte (answer files aside)."""
    mine, other = ours.files(answers=False), theirs.files(answers=False)
    only = [f"only {ours.engine}: {name}" for name in sorted(mine.keys() - other.keys())]
    only += [f"only {theirs.engine}: {name}" for name in sorted(other.keys() - mine.keys())]
    return only + [f"{name} differs" for name in sorted(mine.keys() & other.keys()) if mine[name] != other[name]]


def answers_for(overrides: dict[str, Any]) -> dict[str, Any]:
    """The full answers a render with these overrides gets, derived values included, as
    cookiecutter computes them from copier.yml."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(context_file=str(ROOT / "cookiecutter.json"), extra_context=overrides)
    del context["cookiecutter"]["__validate_answers"]  # derived, not judged
    answers = prompt_for_config(context, no_input=True)
    return {name: value for name, value in answers.items() if not name.startswith("_")}


def cookiecutter_verdict(given: dict[str, Any]) -> tuple[str, str] | None:
    """(question, reason) of the first answer cookiecutter rejects among `given`, or None.

    Runs cookiecutter's own context and prompt code in-process, which ends with the template's
    validation (cookiecutter.json's `__validate_answers`), before anything is written. A
    rejection by cookiecutter itself (a value outside a choice list, a yes/no it cannot read)
    comes back as ("cookiecutter", message).
    """
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    import cookiecutter_questions

    try:
        context = generate_context(context_file=str(ROOT / "cookiecutter.json"), extra_context=given)
    except ValueError as error:
        return ("cookiecutter", str(error))
    try:
        prompt_for_config(context, no_input=True)
    except cookiecutter_questions.InvalidAnswers as invalid:
        return (invalid.errors[0][0], invalid.errors[0][2])
    return None


_copier_template: Path | None = None


def _plain_template() -> Path:
    """The questions as a plain directory (copier refuses links out of a template): copier.yml and
    the templates/ its validators import, all a questionnaire reads."""
    global _copier_template
    if _copier_template is None:
        root = Path(tempfile.mkdtemp(prefix="copier-template-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        shutil.copy(ROOT / "copier.yml", root)
        shutil.copytree(ROOT / "templates", root / "templates")
        _copier_template = root
    return _copier_template


_copier_shared: dict[str, Any] = {}


def _copier_questionnaire(given: dict[str, Any]) -> Any:
    """copier's own questionnaire (`Worker._ask`: it parses, casts and validates every answer in
    order, choices included) run in-process on these answers, without rendering a file. The
    parsed template and its Jinja environment are shared between runs, as within one copy, and
    each Jinja text of copier.yml is compiled once: copier compiles every default, `when` and
    validator again on every run (`from_string`, without globals), which was four fifths of a
    verdict's time."""
    from copier._main import Worker

    worker = Worker(
        src_path=str(_plain_template()),
        dst_path=Path(tempfile.gettempdir()) / "copier-questionnaire",
        data=given,
        defaults=True,
        quiet=True,
    )
    if _copier_shared:
        worker.__dict__.update(_copier_shared)
    else:
        environment = worker.jinja_env
        environment.from_string = functools.lru_cache(maxsize=None)(environment.from_string)  # type: ignore[method-assign]
        _copier_shared.update(template=worker.template, jinja_env=environment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worker._ask()
    return worker


def copier_verdict(given: dict[str, Any]) -> tuple[str, str] | None:
    """(question, reason) of the answer copier rejects among `given`, or None; a rejection by
    copier's own casting comes back as ("copier", message)."""
    try:
        _copier_questionnaire(given)
    except ValueError as error:
        match = COPIER_PREFIXES.match(str(error))
        return (match[2], str(error)[match.end() :]) if match else ("copier", str(error))
    return None


def copier_answers(given: dict[str, Any]) -> dict[str, Any]:
    """The answers copier's questionnaire settles on, derived ones included."""
    combined = _copier_questionnaire(given).answers.combined
    return {name: combined[name] for name in answers_for({}) if name in combined}

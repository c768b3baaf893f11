"""One way to render with each engine, and each engine's own verdict on an answer.

    render("cookiecutter", tmp_path, {"git_auth": "ssh"})   # -> Project
    render("copier", tmp_path, {...})                       # copier's API, as installed here
    render("stock-copier", tmp_path, {...})                 # copier alone in its own virtualenv
    cookiecutter_verdict({"project_slug": "Bad"})   # ("project_slug", reason), or None
    copier_verdict({"project_slug": "Bad"})         # the same from copier's own questionnaire

The test virtualenv has no copier extension package, so its copier is stock too; the
`stock-copier` engine proves it with a virtualenv that holds copier and nothing else.
"""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml

from support.paths import ROOT
from support.project import Project

# copier alone, made by tasks.py from the copier pin of requirements-test.txt.
STOCK_COPIER = ROOT / ".venv-stock-copier" / "bin" / "copier"
COPIER_PREFIXES = re.compile(r"^(Validation error for question|Invalid choice for) '([^']+)': ")


def render(engine: str, destination: Path, overrides: dict[str, Any], template: Path = ROOT, **options: Any) -> Project:
    """Render the template (or a copy of it) into `destination` with these answers."""
    if engine == "cookiecutter":
        from cookiecutter.main import cookiecutter

        path = cookiecutter(
            str(template), no_input=True, extra_context=overrides, output_dir=str(destination), **options
        )
        return Project(Path(path), engine)
    if engine == "copier":
        import copier

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a working tree's uncommitted changes are included on purpose
            copier.run_copy(str(template), str(destination), data=overrides, defaults=True, quiet=True, **options)
        return Project(destination, engine)
    if engine == "stock-copier":
        data = destination.parent / f"{destination.name}-data.yml"
        data.write_text(yaml.safe_dump(overrides))
        command = [
            str(STOCK_COPIER),
            "copy",
            "--defaults",
            "--quiet",
            "--data-file",
            str(data),
            str(template),
            str(destination),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"stock copier failed:\n{result.stderr}"
        return Project(destination, engine)
    raise ValueError(f"unknown engine {engine!r}")


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
    parsed template and its Jinja environment are shared between runs, as within one copy."""
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
        _copier_shared.update(template=worker.template, jinja_env=worker.jinja_env)
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

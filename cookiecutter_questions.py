"""cookiecutter only: ask, derive and check the answers by copier.yml, as copier does.

cookiecutter loads this module as a local Jinja extension (cookiecutter.json, `_extensions`),
with no trust step and nothing to install. It gives cookiecutter the few things copier has
built in, so that copier.yml stays the one definition of every question:

- `default_of(name, answers)`: a question's derived default, rendered from copier.yml;
- `checked(answers)`: every validator of copier.yml, run before anything is written (the
  project directory's name calls it), stopping with each bad answer and how to re-run; once
  the answers pass, it prints copier.yml's `_message_after_copy` (the next steps) as copier
  does, so both engines print one text and no hook process is needed;
- answers taken as data: cookiecutter would otherwise render a value given on the command line
  or through the API as a Jinja template (`{{ 7*7 }}` becomes 49);
- template names under templates/ resolved as copier resolves them.

copier.yml's Jinja runs here in a sandboxed environment configured as copier configures its
own, with the two regex filters of copier's bundled filters that templates/rules.jinja uses.
Standard library, Jinja and PyYAML only: cookiecutter brings all three.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.exceptions import FailedHookException
from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, pass_context
from jinja2.bccache import BytecodeCache, FileSystemBytecodeCache
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

# Resolved at import, before cookiecutter changes directory: `cookiecutter .` must work too.
ROOT = Path(__file__).resolve().parent
TEMPLATES = "templates/"
# The keys cookiecutter adds to the answers itself.
COOKIECUTTER_KEYS = {"_template", "_output_dir", "_repo_dir", "_checkout"}


class InvalidAnswers(FailedHookException):
    """Answers that copier.yml's validators reject; cookiecutter's CLI prints the message alone."""

    def __init__(self, message: str, errors: list[tuple[str, Any, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class UnsupportedCookiecutter(ImportError):
    """cookiecutter's CLI reports a failing extension import as a one-line error, not a traceback."""


def regex_search(value: Any, pattern: str) -> str | None:
    """copier's bundled `regex_search` (jinja2_ansible_filters), for the rules' one use of it."""
    match = re.search(pattern, value)
    return match.group() if match else None


def regex_replace(value: Any, pattern: str = "", replacement: str = "") -> str:
    return re.sub(pattern, replacement, str(value))


@functools.cache
def copier_questions() -> dict[str, Any]:
    # libyaml's loader where PyYAML has it: ten times faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((ROOT / "copier.yml").read_text(encoding="utf-8"), Loader=loader)  # noqa: S506


# Names under which copier_environment's loader serves copier.yml's own templates.
DEFAULT = "copier.yml default of "
WHEN = "copier.yml when of "
VALIDATORS = "copier.yml validators"
MESSAGE_AFTER_COPY = "copier.yml _message_after_copy"
# Between the validators in their one template: no validator prints it, and no whitespace
# control can trim it.
SEPARATOR = "\x00"


def questions() -> dict[str, Any]:
    """The asked questions of copier.yml, in order: settings and computed values left out."""
    return {
        name: spec
        for name, spec in copier_questions().items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def validator_segments() -> list[tuple[str, str]]:
    """(question, Jinja) for each validator copier runs: a question's own, and the one of the
    choice it was given (copier disables such a choice and names the reason)."""
    segments = []
    for name, spec in questions().items():
        if "validator" in spec:
            segments.append((name, spec["validator"]))
        choices = spec.get("choices")
        for choice in choices.values() if isinstance(choices, dict) else []:
            if isinstance(choice, dict) and "validator" in choice:
                condition = "{% if " + name + " == " + json.dumps(choice["value"]) + " %}"
                segments.append((name, condition + choice["validator"] + "{% endif %}"))
    return segments


def copier_source(name: str) -> str | None:
    """copier.yml's templates, served by name so that Jinja compiles (and caches) each once: every
    validator in one template, and each question's default."""
    if name == VALIDATORS:
        return SEPARATOR.join(text for _, text in validator_segments())
    if name == MESSAGE_AFTER_COPY:
        return str(copier_questions()["_message_after_copy"])
    if name.startswith(DEFAULT):
        return str(copier_questions()[name.removeprefix(DEFAULT)]["default"])
    if name.startswith(WHEN):
        return str(copier_questions()[name.removeprefix(WHEN)].get("when", True))
    return None


@functools.cache
def bytecode_cache() -> BytecodeCache | None:
    """Jinja's own cache of compiled templates, in its per-user private directory, so that the
    rules compile once per machine rather than on every render; none where that directory is
    not safe to use."""
    try:
        return FileSystemBytecodeCache()
    except RuntimeError:
        return None


@functools.cache
def copier_environment() -> SandboxedEnvironment:
    """An environment as copier makes one for this template: sandboxed, loader at the template
    root, trailing newlines kept, copier's regex filters."""
    loader = ChoiceLoader([FileSystemLoader(ROOT), FunctionLoader(copier_source)])
    environment = SandboxedEnvironment(loader=loader, keep_trailing_newline=True, bytecode_cache=bytecode_cache())
    environment.filters.update(regex_search=regex_search, regex_replace=regex_replace)
    return environment


def render(name: str, answers: dict[str, Any], data: dict[str, Any] | None = None) -> str:
    """Render one of copier.yml's templates with the answers, as copier would."""
    context = {**answers, "_copier_conf": {"data": data or {}}}
    return copier_environment().get_template(name).render(context)


def default_of(name: str, answers: dict[str, Any]) -> str:
    return render(DEFAULT + name, dict(answers)).strip()


def answer_errors(answers: dict[str, Any], given: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(question, value, reason) for each answer that a validator of copier.yml rejects.

    `given` holds the values as given, before cookiecutter turned them into text (its
    `_cookiecutter`), which copier's validators read as `_copier_conf.data`.
    """
    asked = questions()
    data = {
        name: value
        for name, value in given.items()
        if name in asked and "choices" not in asked[name] and value != derived_questions().get(name)
    }
    reasons = render(VALIDATORS, answers, data).split(SEPARATOR)
    errors = []
    for (name, _), reason in zip(validator_segments(), reasons, strict=True):
        if reason.strip() and name not in {error[0] for error in errors}:
            errors.append((name, answers.get(name), reason.strip()))
    expected = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    for name, value in answers.items():
        if name.startswith("_") and name not in COOKIECUTTER_KEYS and name in expected and value != expected[name]:
            errors.append((name, value, "is not a question: leave it out"))
    return errors


def replay_file(answers: dict[str, Any]) -> Path:
    """Where cookiecutter saved these answers before generating (its replay file)."""
    from cookiecutter.config import get_user_config

    template_name = Path(str(answers.get("_repo_dir", "template"))).resolve().name
    return Path(get_user_config()["replay_dir"]).expanduser() / f"{template_name}.json"


def invalid_answers_message(errors: list[tuple[str, Any, str]], answers: dict[str, Any]) -> str:
    replay = replay_file(answers)
    template = str(answers.get("_template", "<template>"))
    lines = [f"Cannot generate the project: {len(errors)} answer(s) not valid, nothing written."]
    lines += [f"  {name} = {value!r}: {reason}" for name, value, reason in errors]
    lines += [
        f"cookiecutter saved the answers in {replay}",
        "Correct them there, then run:",
        f"  cookiecutter --replay-file {shlex.quote(str(replay))} {shlex.quote(template)}",
    ]
    return "\n".join(lines)


def message_after_copy(answers: dict[str, Any]) -> str:
    """copier.yml's `_message_after_copy` rendered as copier renders it: the answers, the tree's
    `cookiecutter` mapping, and `_copier_conf.dst_path`, here the directory cookiecutter makes."""
    destination = Path(str(answers.get("_output_dir", "."))) / str(answers.get("project_slug", ""))
    context = {**answers, "cookiecutter": answers, "_copier_conf": {"dst_path": destination}}
    return copier_environment().get_template(MESSAGE_AFTER_COPY).render(context)


def prompting_context() -> dict[str, Any]:
    """What cookiecutter's prompt_for_config is asking from (its `context` argument: the answers
    as given, before they became text), found on the call stack; empty outside it."""
    from cookiecutter.prompt import prompt_for_config

    frame = sys._getframe(1)
    while frame is not None and frame.f_code is not prompt_for_config.__code__:
        frame = frame.f_back
    return frame.f_locals["context"] if frame is not None else {}


def validate_answers(answers: dict[str, Any]) -> str:
    """Every validator of copier.yml, run by cookiecutter.json's last private variable, after the
    last question and before cookiecutter writes anything; stop with each bad answer."""
    given = {
        key: value for key, value in prompting_context().get("cookiecutter", {}).items() if not key.startswith("_")
    }
    errors = answer_errors(dict(answers), given)
    if errors:
        raise InvalidAnswers(invalid_answers_message(errors, dict(answers)), errors)
    print(message_after_copy(dict(answers)), file=sys.stderr)
    return "passed"


def git_output(repository: Path, *arguments: str) -> str:
    """What git prints for the template's checkout, or "" where it cannot tell."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repository), *arguments], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def template_source(repository: Path) -> dict[str, str]:
    """`_src_path` and `_commit` as copier records them, for the template checkout cookiecutter
    renders (where this module lives): the URL it was cloned from (cookiecutter expands `gh:org/x` to it; a local
    checkout names its origin), else its absolute path; and `git describe`, the tag itself when
    the checkout is a release."""
    source = {"_src_path": git_output(repository, "remote", "get-url", "origin") or str(repository)}
    commit = git_output(repository, "describe", "--tags", "--always")
    return {**source, "_commit": commit} if commit else source


@pass_context
def copier_answers(context: Context, answers: dict[str, Any]) -> dict[str, Any]:
    """What copier records in .copier-answers.yml, for a project cookiecutter generates, so that
    `copier update` and Renovate's copier manager serve it too: every asked question copier would
    have asked (its `when` holds), and where the template came from."""
    asked = [name for name in questions() if render(WHEN + name, dict(answers)).strip().lower() in ("true", "yes")]
    recorded = {name: answers[name] for name in asked if name in answers}
    return {**template_source(ROOT), **recorded}


def to_nice_yaml(value: Any, indent: int = 4) -> str:
    """copier's bundled `to_nice_yaml` (jinja2_ansible_filters), which writes its answers file."""
    return yaml.dump(value, indent=indent, allow_unicode=True, default_flow_style=False)


def copier_template_name(template: str, parent: str | None) -> str:
    """copier finds 'templates/x.jinja' from the template root; cookiecutter's loader looks in
    the project directory and in templates/, where the same file is 'x.jinja'."""
    return template.removeprefix(TEMPLATES)


# --- answers as data ----------------------------------------------------------------------


@functools.cache
def derived_questions() -> dict[str, str]:
    """Question -> its derived default in cookiecutter.json: the only answer-side strings
    cookiecutter may render."""
    context = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    return {name: value for name, value in context.items() if isinstance(value, str) and "{{" in value}


@functools.cache
def derived_defaults() -> frozenset[str]:
    return frozenset(derived_questions().values())


def keep_answers_as_data(environment: Any) -> None:
    """cookiecutter renders every answer as a Jinja template while prompting
    (cookiecutter.prompt.render_variable): compile only the derived defaults there, and give
    every other string back as it is. The calling module is the only sign of an answer that
    cookiecutter gives; `prove_answers_stay_data` checks that this still holds."""
    compile_source = environment.from_string
    literal: list[Any] = []  # "{{ literal }}", compiled on first use: an answer costs no parse

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == "cookiecutter.prompt" and source not in derived_defaults():
            literal[:] = literal or [environment.compile("{{ literal }}")]
            return environment.template_class.from_code(environment, literal[0], {"literal": source})
        return compile_source(source, globals, template_class)

    environment.from_string = from_string


_proving = False


@functools.cache
def prove_answers_stay_data() -> None:
    """Fail closed: when cookiecutter no longer renders answers where keep_answers_as_data
    expects, stop instead of letting an answer run as a template."""
    global _proving
    from cookiecutter.prompt import prompt_for_config

    probe = "{{ 'an answer' ~ ' rendered' }}"
    _proving = True
    try:
        context = {"cookiecutter": {"probe": probe, "_extensions": [f"{__name__}.CopierQuestions"]}}
        result = prompt_for_config(context, no_input=True)["probe"]
    finally:
        _proving = False
    if result != probe:
        raise UnsupportedCookiecutter(
            "this cookiecutter renders answers in a way this template cannot keep as data; "
            "use cookiecutter 2.x up to 2.7.1, or copier"
        )


class CopierQuestions(Extension):
    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        keep_answers_as_data(environment)
        environment.bytecode_cache = bytecode_cache()
        environment.join_path = copier_template_name
        environment.filters.update(regex_search=regex_search, regex_replace=regex_replace, to_nice_yaml=to_nice_yaml)
        environment.globals.update(
            default_of=default_of, validate_answers=validate_answers, copier_answers=copier_answers
        )
        if not _proving:
            prove_answers_stay_data()

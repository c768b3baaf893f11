"""cookiecutter only: ask, derive and check the answers by copier.yml, as copier does.

cookiecutter loads this module as a local Jinja extension (cookiecutter.json, `_extensions`),
with no trust step and nothing to install; hooks/ renders its functions into the hook scripts.
It gives cookiecutter the few things copier has built in, so that copier.yml stays the one
definition of every question:

- `default_of(name, answers)`: a question's derived default, rendered from copier.yml;
- `validate_answers(answers)`: every validator of copier.yml, run by cookiecutter.json's last
  private variable after the last question and before anything is created (why there:
  hooks/pre_gen_project.py). A typed answer that fails is asked again; answers given on the
  command line, through the API or by cruft stop with each reason and the command to run again;
- `problems_before_generating(answers)` and `next_steps(answers)`: what hooks/pre_gen_project.py
  and hooks/post_gen_project.py report (the same check again; copier.yml's `_message_after_copy`);
- answers taken as data: cookiecutter would otherwise render a value given on the command line
  or through the API as a Jinja template (`{{ 7*7 }}` becomes 49);
- template names under templates/ resolved as copier resolves them.

copier.yml's Jinja runs here in a sandboxed environment configured as copier configures its
own, with the two regex filters of copier's bundled filters that templates/rules.jinja uses.
Standard library, Jinja and PyYAML only: cookiecutter brings all three.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
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
# cookiecutter.json's last private variable, which runs every validator, and what it holds after.
VALIDATION_KEY = "__validate_answers"
VALIDATION_PASSED = "passed"
# The command a caller of cookiecutter offers for running it again (tasks.py generate sets it).
RERUN_COMMAND_VARIABLE = "TEMPLATE_RERUN_COMMAND"
# The Poetry a caller has where none is on PATH, for the next steps (tasks.py generate sets it).
POETRY_COMMAND_VARIABLE = "TEMPLATE_POETRY_COMMAND"


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


# Template names under which copier_environment's loader serves copier.yml's own Jinja: a
# question's default, a question's `when`, every validator in one template, the next steps.
DEFAULT_TEMPLATE_PREFIX = "copier.yml default of "
WHEN_TEMPLATE_PREFIX = "copier.yml when of "
VALIDATORS_TEMPLATE = "copier.yml validators"
MESSAGE_AFTER_COPY_TEMPLATE = "copier.yml _message_after_copy"
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
    if name == VALIDATORS_TEMPLATE:
        return SEPARATOR.join(text for _, text in validator_segments())
    if name == MESSAGE_AFTER_COPY_TEMPLATE:
        return str(copier_questions()["_message_after_copy"])
    if name.startswith(DEFAULT_TEMPLATE_PREFIX):
        return str(copier_questions()[name.removeprefix(DEFAULT_TEMPLATE_PREFIX)]["default"])
    if name.startswith(WHEN_TEMPLATE_PREFIX):
        return str(copier_questions()[name.removeprefix(WHEN_TEMPLATE_PREFIX)].get("when", True))
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
    return render(DEFAULT_TEMPLATE_PREFIX + name, dict(answers)).strip()


def answer_errors(answers: dict[str, Any], given: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(question, value, reason) for each answer that a validator of copier.yml rejects.

    `given` holds the values as given, before cookiecutter turned them into text, which copier's
    validators read as `_copier_conf.data`.
    """
    asked = questions()
    data = {
        name: value
        for name, value in given.items()
        if name in asked and "choices" not in asked[name] and value != derived_questions().get(name)
    }
    reasons = render(VALIDATORS_TEMPLATE, answers, data).split(SEPARATOR)
    errors = []
    for (name, _), reason in zip(validator_segments(), reasons, strict=True):
        if reason.strip() and name not in {error[0] for error in errors}:
            errors.append((name, answers.get(name), reason.strip()))
    # The template's own private variables hold what cookiecutter.json says (the check's own
    # once it has run): one given on the command line or through the API would change the tree.
    expected = {**cookiecutter_json(), VALIDATION_KEY: VALIDATION_PASSED}
    for name, value in answers.items():
        if name.startswith("_") and name not in COOKIECUTTER_KEYS and name in expected and value != expected[name]:
            errors.append((name, value, "is not a question: leave it out"))
    return errors


# --- how cookiecutter was run, for the command that runs it again ---------------------------


def caller_locals(function: Any) -> dict[str, Any] | None:
    """The arguments of `function` (a cookiecutter or cruft entry point) where it is on the call
    stack: what the person asked for. None where it is not."""
    code = inspect.unwrap(function).__code__
    frame = sys._getframe(1)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    return frame.f_locals if frame is not None else None


def derived_from_other_answers(answers: dict[str, Any]) -> set[str]:
    """The questions whose answer is still their default derived from the answers before them
    (project_slug from project_name, package_name from project_slug, runner_labels from
    github_host): nobody chose them, so a corrected answer recomputes them."""
    return {name for name in derived_questions() if name in answers and answers[name] == default_of(name, answers)}


def given_answers(answers: dict[str, Any], as_given: dict[str, Any] | None) -> list[str]:
    """The questions the person answered: `as_given` (what cookiecutter read from the command
    line, the API or the user's config) differs from cookiecutter.json; without it (typed
    answers, a replay file), every answer that is not its default."""
    defaults = cookiecutter_json()
    if as_given is not None:
        return [name for name in questions() if name in as_given and as_given[name] != defaults.get(name)]
    derived = derived_from_other_answers(answers)
    chosen = []
    for name in questions():
        default = defaults.get(name)
        default = default[0] if isinstance(default, list) else default
        if name in answers and name not in derived and (name in derived_questions() or answers[name] != default):
            chosen.append(name)
    return chosen


def key_value(name: str, value: Any) -> str:
    """An answer as cookiecutter's KEY=VALUE argument, quoted for a POSIX shell."""
    text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return shlex.quote(f"{name}={text}")


def rerun_command(answers: list[tuple[str, Any]]) -> str:
    """The command that runs cookiecutter (or cruft) again as the person ran it, with these
    answers: the same template at the same --checkout, and the same options. The answers go as
    KEY=VALUE (cookiecutter refuses them beside --replay, and its replay file does not keep the
    checkout)."""
    rerun = os.environ.get(RERUN_COMMAND_VARIABLE)
    if rerun:
        return " ".join([rerun, *(key_value(name, value) for name, value in answers)])
    try:
        from cookiecutter.main import cookiecutter
    except ImportError:
        return cruft_rerun_command(answers)
    call = caller_locals(cookiecutter)
    if call is None or "template" not in call:
        return cruft_rerun_command(answers)
    options = ["cookiecutter", "--no-input"]
    for option, value in [
        ("--checkout", call.get("checkout")),
        ("--directory", call.get("directory")),
        ("--config-file", call.get("config_file")),
        ("--output-dir", None if call.get("output_dir") in (None, ".") else call["output_dir"]),
    ]:
        options += [option, str(value)] if value else []
    options += ["--default-config"] if call.get("default_config") else []
    options += ["--overwrite-if-exists"] if call.get("overwrite_if_exists") else []
    options += ["--accept-hooks", "no"] if call.get("accept_hooks") is False else []
    command = [*(shlex.quote(option) for option in options), shlex.quote(str(call["template"]))]
    return " ".join([*command, *(key_value(name, value) for name, value in answers)])


def cruft_rerun_command(answers: list[tuple[str, Any]]) -> str:
    """`cruft create` takes the answers as one JSON object."""
    try:
        from cruft._commands.create import create
    except ImportError:
        create = None
    call = caller_locals(create) if create is not None else None
    if call is None or "template_git_url" not in call:
        return "cookiecutter --no-input <template> " + " ".join(key_value(name, value) for name, value in answers)
    options = ["cruft", "create"]
    options += ["--checkout", str(call["checkout"])] if call.get("checkout") else []
    options += ["--output-dir", str(call["output_dir"])] if str(call.get("output_dir", ".")) != "." else []
    options += ["--extra-context", json.dumps(dict(answers), ensure_ascii=False)]
    return " ".join(shlex.quote(option) for option in [*options, str(call["template_git_url"])])


def invalid_answers_message(
    errors: list[tuple[str, Any, str]], answers: dict[str, Any], as_given: dict[str, Any] | None, written: bool = False
) -> str:
    """Each bad answer with its reason, and the command to run again: the answers the person
    gave, the bad ones last (to correct there); derived defaults left out, so that they follow
    the corrected answers."""
    given = given_answers(answers, as_given)
    bad = [name for name, _, _ in errors if name in given] or [name for name, _, _ in errors if name in questions()]
    kept = [(name, answers[name]) for name in given if name not in bad]
    done = "cookiecutter removes the project directory it made" if written else "nothing written"
    lines = [f"Cannot generate the project: {len(errors)} answer(s) not valid, {done}."]
    lines += [f"  {name} = {value!r}: {reason}" for name, value, reason in errors]
    follow = [name for name, _, _ in errors if name not in bad and name in derived_from_other_answers(answers)]
    if follow:
        lines.append(f"({', '.join(follow)}: derived from the answers before, so it follows their correction.)")
    lines += [
        f"Run it again with {', '.join(bad) or 'the answers'} corrected at the end of this command:",
        "  " + rerun_command([*kept, *((name, answers[name]) for name in bad)]),
    ]
    return "\n".join(lines)


def message_after_copy(answers: dict[str, Any]) -> str:
    """copier.yml's `_message_after_copy` rendered as copier renders it: the answers, the tree's
    `cookiecutter` mapping, and `_copier_conf.dst_path`, here the directory cookiecutter made."""
    destination = Path(str(answers.get("_output_dir", "."))) / str(answers.get("project_slug", ""))
    context = {**answers, "cookiecutter": answers, "_copier_conf": {"dst_path": destination}}
    return copier_environment().get_template(MESSAGE_AFTER_COPY_TEMPLATE).render(context)


# --- the checks cookiecutter runs: after the last question, and in hooks/ ---------------------


def ask_again(name: str, answers: dict[str, Any], prompting: dict[str, Any]) -> Any:
    """The question asked again with cookiecutter's own prompt (its choices, yes/no or text)."""
    from cookiecutter import prompt

    raw = prompting["context"]["cookiecutter"].get(name)
    prompts, prefix = prompting.get("prompts"), "  [dim]again:[/] "
    if isinstance(raw, list):
        options = [prompt.render_variable(prompting["env"], option, answers) for option in raw]
        return prompt.read_user_choice(name, options, prompts, prefix)
    if isinstance(raw, bool):
        return prompt.read_user_yes_no(name, answers[name], prompts, prefix)
    default = default_of(name, answers) if name in derived_questions() else answers[name]
    return prompt.read_user_variable(name, default, prompts, prefix)


def correct_typed_answers(answers: dict[str, Any], prompting: dict[str, Any]) -> None:
    """Ask each rejected answer again, with its reason, until copier.yml's validators accept all,
    as copier does; a derived default nobody chose follows the corrected answers before it."""
    from rich import print as rich_print
    from rich.markup import escape

    derived = derived_from_other_answers(answers)
    while errors := [error for error in answer_errors(answers, {}) if error[0] in questions()]:
        name, value, reason = errors[0]
        rich_print(escape(f"  {name} = {value!r}: {reason}"))
        answers[name] = ask_again(name, answers, prompting)
        derived.discard(name)
        for later in [question for question in questions() if question in derived]:
            answers[later] = default_of(later, answers)


def validate_answers(answers: dict[str, Any]) -> str:
    """Every validator of copier.yml, run from cookiecutter.json's last private variable: after the
    last question, before cookiecutter creates anything. Typed answers that fail are asked again;
    answers given on the command line, through the API or by cruft stop generation, each bad one
    with its reason and the command to run again."""
    from cookiecutter.prompt import prompt_for_config

    prompting = caller_locals(prompt_for_config) or {}
    context = prompting.get("context", {}).get("cookiecutter", {})
    as_given = {name: value for name, value in context.items() if not name.startswith("_")}
    typed = bool(prompting) and not prompting.get("no_input")
    if typed:
        correct_typed_answers(answers, prompting)
    # cookiecutter takes a mapping after every other variable: judged here as it will be taken.
    judged = {**{name: as_given[name] for name in questions() if name in as_given and name not in answers}, **answers}
    errors = answer_errors(judged, as_given)
    if errors:
        raise InvalidAnswers(invalid_answers_message(errors, judged, None if typed else as_given), errors)
    return VALIDATION_PASSED


@pass_context
def problems_before_generating(context: Context, answers: dict[str, Any]) -> str:
    """What hooks/pre_gen_project.py reports: "" when copier.yml's validators accept the answers
    cookiecutter is about to render, else each bad one and the command to run again. Answers
    from a replay file reach generation without the questions' check."""
    as_given = context.get("_cookiecutter")
    errors = answer_errors(dict(answers), as_given or {})
    return invalid_answers_message(errors, dict(answers), None, written=True) if errors else ""


def next_steps(answers: dict[str, Any]) -> str:
    """What hooks/post_gen_project.py prints once the files exist: copier.yml's next steps, with
    the Poetry its caller names where none is on PATH (tasks.py generate: the checkout's own)."""
    message = message_after_copy(dict(answers))
    poetry = os.environ.get(POETRY_COMMAND_VARIABLE)
    return message.replace("poetry lock", f"{shlex.quote(poetry)} lock") if poetry else message


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
    asked = [
        name
        for name in questions()
        if render(WHEN_TEMPLATE_PREFIX + name, dict(answers)).strip().lower() in ("true", "yes")
    ]
    recorded = {name: answers[name] for name in asked if name in answers}
    return {**template_source(ROOT), **recorded}


def to_nice_yaml(value: Any, indent: int = 4) -> str:
    """copier's bundled `to_nice_yaml` (jinja2_ansible_filters), which writes its answers file."""
    return yaml.dump(value, indent=indent, allow_unicode=True, default_flow_style=False)


def cookiecutter_loader_path(template: str, parent: str | None) -> str:
    """copier finds 'templates/x.jinja' from the template root; cookiecutter's loader looks in
    the project directory and in templates/, where the same file is 'x.jinja'."""
    return template.removeprefix(TEMPLATES)


# --- answers as data ----------------------------------------------------------------------


@functools.cache
def cookiecutter_json() -> dict[str, Any]:
    return json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))


@functools.cache
def template_strings() -> frozenset[str]:
    """cookiecutter.json's Jinja (derived defaults, the validation): the only strings of the
    context that cookiecutter may render."""
    return frozenset(value for value in cookiecutter_json().values() if isinstance(value, str) and "{{" in value)


@functools.cache
def derived_questions() -> dict[str, str]:
    """Question -> its derived default in cookiecutter.json."""
    return {
        name: value
        for name, value in cookiecutter_json().items()
        if name in questions() and isinstance(value, str) and value in template_strings()
    }


def keep_answers_as_data(environment: Any) -> None:
    """cookiecutter renders every answer as a Jinja template while prompting
    (cookiecutter.prompt.render_variable): compile only the derived defaults there, and give
    every other string back as it is. The calling module is the only sign of an answer that
    cookiecutter gives; `prove_answers_stay_data` checks that this still holds."""
    compile_source = environment.from_string
    literal: list[Any] = []  # "{{ literal }}", compiled on first use: an answer costs no parse

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == "cookiecutter.prompt" and source not in template_strings():
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
        environment.join_path = cookiecutter_loader_path
        environment.filters.update(regex_search=regex_search, regex_replace=regex_replace, to_nice_yaml=to_nice_yaml)
        environment.globals.update(
            default_of=default_of,
            validate_answers=validate_answers,
            problems_before_generating=problems_before_generating,
            next_steps=next_steps,
            copier_answers=copier_answers,
        )
        if not _proving:
            prove_answers_stay_data()

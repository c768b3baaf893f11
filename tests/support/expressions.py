"""GitHub Actions expressions, evaluated as the runner evaluates them, for the tests.

    evaluate("github.event_name == 'pull_request' && format('pr-{0}', github.event.number)", context)
    render("key-${{ runner.os }}", context)      # text with ${{ }} parts substituted

Literals, context paths (`a.b`, `a['b']`), ! == != < <= > >=, && and || that return one of their
operands (not a bool), parentheses, and the functions the template uses: format, contains,
startsWith, endsWith, join, toJSON, fromJSON and the status functions. Comparison follows GitHub's
rules: strings ignore case, and values of different types compare as numbers. A context name
the caller did not give raises, so a rendered file cannot drift away from what a test evaluates;
a missing property of a given context is null, as on GitHub.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\[|\]|,|\.)|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)


class ExpressionError(AssertionError):
    """An expression this evaluator cannot read, or a context it was not given."""


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def as_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right) or left is None and right is None:
        return left == right
    return as_number(left) == as_number(right)


def as_text(value: Any) -> str:
    """How a value is written into text (`${{ }}` in a string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return str(value)


def format_text(template: str, *arguments: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[0] in ("{{", "}}"):
            return match[0][0]
        return as_text(arguments[int(match[1])])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


def evaluate(
    expression: str,
    context: Mapping[str, Any],
    status: Mapping[str, bool] | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """The value of `expression`; `status` gives success/failure/cancelled for the status
    functions, `functions` the ones that depend on the runner (hashFiles)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read {expression!r} at {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    tokens.append(("end", ""))
    index = 0
    states = {"success": True, "failure": False, "cancelled": False, **(status or {})}
    known: dict[str, Callable[..., Any]] = {
        **(functions or {}),
        "format": format_text,
        "contains": lambda haystack, needle: (
            any(equal(item, needle) for item in haystack)
            if isinstance(haystack, list)
            else as_text(needle).lower() in as_text(haystack).lower()
        ),
        "startsWith": lambda text, prefix: as_text(text).lower().startswith(as_text(prefix).lower()),
        "endsWith": lambda text, suffix: as_text(text).lower().endswith(as_text(suffix).lower()),
        "join": lambda items, separator=",": as_text(separator).join(map(as_text, items)),
        "toJSON": lambda value: json.dumps(value, indent=2),
        "fromJSON": lambda value: json.loads(value),
        "success": lambda: states["success"] and not states["cancelled"],
        "always": lambda: True,
        "failure": lambda: states["failure"],
        "cancelled": lambda: states["cancelled"],
    }

    def peek() -> str:
        return tokens[index][1] if tokens[index][0] in ("op", "end") else ""

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal index
        token = tokens[index]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r} in {expression!r}, found {token[1]!r}")
        index += 1
        return token

    def primary() -> Any:
        kind, value = take()
        if kind == "string":
            result: Any = value[1:-1].replace("''", "'")
        elif kind == "number":
            result = float(value) if "." in value else int(value)
        elif value == "(":
            result = disjunction()
            take(")")
        elif kind == "name" and value in ("true", "false", "null"):
            result = {"true": True, "false": False, "null": None}[value]
        elif kind == "name" and peek() == "(":
            if value not in known:
                raise ExpressionError(f"unknown function {value}() in {expression!r}")
            take("(")
            arguments = []
            while peek() != ")":
                arguments.append(disjunction())
                if peek() == ",":
                    take(",")
            take(")")
            result = known[value](*arguments)
        elif kind == "name":
            if value not in context:
                raise ExpressionError(f"unknown context {value!r} in {expression!r}")
            result = context[value]
        else:
            raise ExpressionError(f"cannot read {expression!r} at {value!r}")
        while peek() in (".", "["):
            if take()[1] == ".":
                key: Any = take()[1]
            else:
                key = disjunction()
                take("]")
            result = result.get(key) if isinstance(result, Mapping) else None
        return result

    def unary() -> Any:
        if peek() == "!":
            take()
            return not truthy(unary())
        return primary()

    def comparison() -> Any:
        left = unary()
        while peek() in ("==", "!=", "<", "<=", ">", ">="):
            operator = take()[1]
            right = unary()
            if operator in ("==", "!="):
                left = equal(left, right) == (operator == "==")
            else:
                a, b = as_number(left), as_number(right)
                left = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
        return left

    def conjunction() -> Any:
        value = comparison()
        while peek() == "&&":
            take()
            right = comparison()
            value = right if truthy(value) else value
        return value

    def disjunction() -> Any:
        value = conjunction()
        while peek() == "||":
            take()
            right = conjunction()
            value = value if truthy(value) else right
        return value

    result = disjunction()
    if tokens[index][0] != "end":
        raise ExpressionError(f"cannot read {expression!r} past {tokens[index][1]!r}")
    return result


def hash_files(workspace: Path, *patterns: str) -> str:
    """GitHub's hashFiles(): the SHA-256 of the matched files' SHA-256 digests, in path order;
    "" when nothing matches."""
    paths = sorted({path for pattern in patterns for path in workspace.glob(pattern) if path.is_file()})
    if not paths:
        return ""
    outer = hashlib.sha256()
    for path in paths:
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return outer.hexdigest()


def condition(
    text: str,
    context: Mapping[str, Any],
    status: Mapping[str, bool],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> bool:
    """An `if:`: `${{ }}` optional, and an implicit success() unless a status function is named."""
    expression = text.strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    if not re.search(r"\b(?:success|always|failure|cancelled)\s*\(", expression):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, context, status, functions))


def render(text: str, context: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None) -> str:
    """Text with each `${{ expression }}` replaced by its value, as the runner writes it."""
    return EXPRESSION.sub(lambda match: as_text(evaluate(match[1], context, functions=functions)), text)


def value(text: Any, context: Mapping[str, Any]) -> Any:
    """A workflow value as the runner reads it: a value that is one `${{ }}` keeps the
    expression's type (a bool, a list), one with text around its expressions is a string."""
    if not isinstance(text, str):
        return text
    whole = re.fullmatch(r"\s*\$\{\{(.*)\}\}\s*", text, re.S)
    if whole and "${{" not in whole[1]:
        return evaluate(whole[1], context)
    return render(text, context)


# What a run cannot know before it starts: earlier steps' outputs and outcomes, needed jobs' results.
UNKNOWN = re.compile(r"\b(steps|needs)\.([\w-]+)\.(outputs\.[\w-]+|outcome|conclusion|result)\b")
UNKNOWN_VALUES = {
    "outputs": ("", "true", "false"),
    "outcome": ("success", "failure", "skipped"),
    "conclusion": ("success", "failure", "skipped"),
    "result": ("success", "failure", "skipped", "cancelled"),
}


def _assign(context: Any, path: list[str], value: Any) -> dict[str, Any]:
    inner = dict(context) if isinstance(context, Mapping) else {}
    head, *rest = path
    inner[head] = _assign(inner.get(head), rest, value) if rest else value
    return inner


def outcomes(
    text: str,
    context: Mapping[str, Any],
    status: Mapping[str, bool],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> set[bool]:
    """Every value an `if:` can take before the run: each output, outcome or result of an earlier
    step or job it reads takes each value it could have ("", "true", "false" for an output)."""
    found = sorted({match.groups() for match in UNKNOWN.finditer(text)})
    choices = [UNKNOWN_VALUES[part.partition(".")[0]] for _, _, part in found]
    results = set()
    for combination in itertools.product(*choices):
        assigned = dict(context)
        for (scope, name, part), chosen in zip(found, combination, strict=True):
            assigned = _assign(assigned, [scope, name, *part.split(".")], chosen)
        results.add(condition(text, assigned, status, functions))
    return results

"""Mutation testing of the answer rules: does some fast test fail when a rule is changed?

    .venv/bin/python quality/mutate_rules.py                 every mutant (one to two hours)
    .venv/bin/python quality/mutate_rules.py --list          the mutants, without running them
    .venv/bin/python quality/mutate_rules.py --only 'slug ['  mutants whose key holds a text
    .venv/bin/python quality/mutate_rules.py --survivors-of results.json   again, the survivors

The rules are Jinja and YAML (templates/rules.jinja, names.jinja, dependencies.jinja,
project.jinja and tables.jinja, the validators and `when`s of copier.yml) and Python
(cookiecutter_questions.py); no mutation tool reads the first two, so this script makes the
mutants itself, one small change at a time:

- regex literals: drop or flip an anchor, move a quantifier bound by one, swap `*`/`+`, drop a
  `?`, take one item out of a character class (or one character off a range's end), add one,
  delete one alternative of the pattern or of a group;
- rules.jinja's table RULES (rule -> rows of [reason, pattern]) and its building blocks LABEL,
  HOST, PORT and HOST_ROWS: the regex mutants in each pattern and in each piece of a pattern
  joined with `~` (an alternative only where it lies wholly in the piece), each row deleted as an
  elif branch is, each row's reason swapped with the next row's;
- code: number literals +-1, `<`/`<=`, `>`/`>=`, `==`/`!=`, `and`/`or`, `in`/`not in`, drop a
  `not`, `true`/`false`, `loop.first`/`loop.last`, drop `| lower`, `| upper` or `| trim`,
  `partition`/`rpartition`, `startswith`/`endswith`; delete one branch of an if/elif chain; give
  a branch or a reason literal of a *_error macro another reason;
- copier.yml: drop a validator, drop the value as given (`_copier_conf.data.get(...)`);
- tables.jinja: drop an anchor of KEYWORD_RE or STDLIB_RE; delete one keyword, one module in
  ten, one folding in fifty, one range of the invisible characters in five;
- cookiecutter_questions.py, inside functions as mutmut would: the same code operators, strings
  changed to "XX...XX", a call, raise or attribute assignment replaced by `pass`, a returned value
  replaced by None.

Each mutant is written into a private copy of the template and the fast tests (FAST_TESTS) run
on it in a process forked from this one, which has the test libraries imported already; the
first failing test kills it, and tests that killed earlier mutants run first. Each run has its
own temporary directory, which holds Jinja's bytecode cache, and writes no .pyc: nothing
compiled from one mutant reaches another. EQUIVALENT lists the survivors judged to behave
exactly as the rules do, each with why; the kill rate counts the others. This script is not
part of the test suite or of CI: it checks the tests.
"""

from __future__ import annotations

import argparse
import ast
import functools
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The fast tests: each engine's validation in-process, a handful of real renders that stop at
# the first bad answer, and the generated-file check; under a minute on two cores.
FAST_TESTS = ["tests/test_answers.py"]
# Run last: it notices any edit of a generated file, so it would hide which behaviour test
# notices a changed table.
LAST_TESTS = ["test_question_files_are_written_from_copier_yml"]
RULE_FILES = [
    "templates/rules.jinja",
    "templates/names.jinja",
    "templates/dependencies.jinja",
    "templates/project.jinja",
    "copier.yml",
    "templates/tables.jinja",
    "cookiecutter_questions.py",
]

# Survivors that behave exactly as the rules do, by key (see --list), and why.
EQUIVALENT: dict[str, str] = {
    "templates/rules.jinja bool_error: or -> and": (
        "`raw is mapping` alone adds nothing: a mapping is also iterable and not a string, the next test"
    ),
    "templates/rules.jinja HOST: regex [^:/] without :": (
        "the lookahead only bounds where the name ends: LABEL holds no ':', so the first one ends the name either way"
    ),
    "templates/rules.jinja HOST: regex [^:/] without /": "as without ':': LABEL holds no '/'",
    "templates/rules.jinja HOST: regex {1,253} -> {0,253}": "LABEL, right after, needs a character anyway",
    "templates/rules.jinja slug [is longer than 100 characters]: regex drop \\A": (
        "101 characters anywhere in an answer means 101 from its start"
    ),
    "templates/rules.jinja email [is not like name@example.com]: regex drop \\A": (
        "255 characters anywhere means 255 from the start"
    ),
    "templates/rules.jinja email [is not like name@example.com]: regex [\\\\s\\\\S] without \\s": (
        "both alternatives give the one reason, and the second refuses any whitespace"
    ),
    "templates/rules.jinja org [is longer than 39 characters]: regex drop \\A": (
        "40 characters anywhere in an answer means 40 from its start"
    ),
    "templates/rules.jinja repository [invalid]: regex drop \\A": "101 characters anywhere means 101 from the start",
    "templates/rules.jinja repository [invalid]: regex [\\\\s\\\\S] without \\s": (
        "one reason for every alternative, and the name's shape refuses whitespace"
    ),
    "templates/rules.jinja repository [invalid]: regex [Gg] with '.'": "'..' is refused by the alternative before",
    "templates/rules.jinja repository [invalid]: regex [Tt] with '.'": "a name ending in '.' is refused by the shape",
    "templates/rules.jinja ref [invalid]: regex [\\\\x00-\\\\x20\\\\x7f~^:?*\\\\[\\\\\\\\] without \\x7f": (
        "text_error refuses U+007F in the whole answer before any ref is read"
    ),
    "templates/rules.jinja secret [must not start with a digit]: regex [0-9] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Gg] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Ii] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Tt] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Hh] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Uu] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/rules.jinja secret [GITHUB_ names are reserved]: regex [Bb] with '.'": (
        "the first row refuses a '.' anywhere"
    ),
    "templates/names.jinja slug_of: < -> <=": "U+0080 is a control character: text_error refuses a name holding it",
    "templates/dependencies.jinja normalized_name: regex [-_.] with ' '": (
        "no name it normalizes holds a space: a repository name with one is refused first, a slug cannot"
    ),
    "templates/project.jinja (top): partition -> rpartition": "a valid github_host holds at most one ':'",
    'cookiecutter_questions.py copier_questions: string "CSafeLoader" -> XX': (
        "getattr falls back to PyYAML's pure-Python SafeLoader, which reads the same YAML"
    ),
    'cookiecutter_questions.py questions: string "when" -> XX': (
        "the one question with `when: false` (the computed `cookiecutter`) has no validator or "
        "choices, and its `when` keeps it out of the answers file"
    ),
    "cookiecutter_questions.py questions: False -> True": (
        'as string "when": that question is then read and changes nothing'
    ),
    "cookiecutter_questions.py validator_segments: and -> or": (
        "every choice written as a mapping has a validator, and no text choice holds the word"
    ),
    "cookiecutter_questions.py bytecode_cache: return None for return FileSystemBytecodeCache()": (
        "the cache only saves compiling; None is its fallback"
    ),
    "cookiecutter_questions.py copier_environment: True -> False": (
        "render() strips what a validator or default prints, and the next steps end without a newline"
    ),
    "cookiecutter_questions.py answer_errors: and -> or": (
        "it lets a choice's value and a derived default's template into the values as given, both "
        "text; only the type of a value as given is read, and the choices' validators read none"
    ),
    'cookiecutter_questions.py answer_errors: string "choices" -> XX': "as and -> or: only choices' text is let in",
    "cookiecutter_questions.py answer_errors: and -> or #2": "as and -> or: only the same text values are let in",
    "cookiecutter_questions.py answer_errors: True -> False": (
        "zip(strict=...): both sides come from validator_segments, always of one length"
    ),
    "cookiecutter_questions.py answer_errors: 0 -> -1": "at most one choice has a given value, so [0] is [-1]",
    'cookiecutter_questions.py message_after_copy: string "." -> XX': (
        "a default for _output_dir, which cookiecutter always gives"
    ),
    'cookiecutter_questions.py message_after_copy: string "" -> XX': (
        "a default for project_slug, which every answer set holds"
    ),
    "cookiecutter_questions.py git_output: 30 -> 29": "a time limit no local git command comes near",
    "cookiecutter_questions.py git_output: 30 -> 31": "a time limit no local git command comes near",
    'cookiecutter_questions.py git_output: return None for return ""': (
        'its callers test the result for truth, as they do ""'
    ),
    'cookiecutter_questions.py copier_answers: string "yes" -> XX': (
        "no `when` of copier.yml prints 'yes': they print Jinja's True or False"
    ),
    "cookiecutter_questions.py keep_answers_as_data: 0 -> -1": "the list holds one compiled template: [0] is [-1]",
    "cookiecutter_questions.py prove_answers_stay_data: string \"{{ 'an answer' ~ ' rendere... -> XX": (
        "any probe with a Jinja expression proves the same: kept as data it comes back unchanged"
    ),
    "cookiecutter_questions.py prove_answers_stay_data: False -> True": (
        "the proof is cached (functools.cache): skipping a second call changes nothing"
    ),
    "cookiecutter_questions.py CopierQuestions.__init__: pass for super().__init__(environment)": (
        "Extension.__init__ only keeps the environment as an attribute, which this extension never reads"
    ),
    "cookiecutter_questions.py CopierQuestions.__init__: pass for environment.bytecode_cache = bytecode...": (
        "the cache only saves compiling"
    ),
}


@functools.cache
def source(path: str) -> str:
    """A rule file as it was when the run began: later edits of the working tree do not move
    the mutants' offsets."""
    return (ROOT / path).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Mutant:
    path: str
    scope: str
    description: str
    start: int
    end: int
    replacement: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


def keyed(mutants: list[Mutant]) -> dict[str, Mutant]:
    """A key that stays put when other lines change: file, macro or function, change, and a
    number when the same change happens more than once there."""
    keys: dict[str, Mutant] = {}
    seen: dict[str, int] = {}
    for mutant in mutants:
        base = f"{mutant.path} {mutant.scope}: {mutant.description}"
        seen[base] = seen.get(base, 0) + 1
        keys[base if seen[base] == 1 else f"{base} #{seen[base]}"] = mutant
    return keys


def short(text: str, limit: int = 40) -> str:
    text = text.encode("unicode_escape").decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- regex literals -------------------------------------------------------------------------

REGEX_ATOM = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|.", re.S)
QUANTIFIER = re.compile(r"\{(\d+)(?:,(\d+))?\}")
# Added to a character class, one at a time: characters the rules care about.
ADDED = [".", "_", "-", " ", "@", "/", "A", "0"]


def class_items(body: str) -> list[tuple[int, int, str, str]]:
    """(start, end, first, last) of each item of a character class body, offsets into body;
    first == last for a single character."""
    atoms = [(m.start(), m.end(), m.group()) for m in REGEX_ATOM.finditer(body)]
    items = []
    i = 0
    while i < len(atoms):
        start, end, atom = atoms[i]
        if i + 2 < len(atoms) and atoms[i + 1][2] == "-":
            items.append((start, atoms[i + 2][1], atom, atoms[i + 2][2]))
            i += 3
        else:
            items.append((start, end, atom, atom))
            i += 1
    return items


def character(atom: str) -> str | None:
    """The one character an atom stands for, or None for a class escape (\\d) or escaped
    metacharacter that has no neighbour to step to."""
    if len(atom) == 1:
        return atom
    if atom[1] in "xuU":
        return chr(int(atom[2:], 16))
    return atom[1] if not atom[1].isalnum() else None


def atom_of(char: str) -> str:
    if char.isalnum() and char.isascii():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


GROUP_OPENING = re.compile(r"\((?:\?(?:[:=!]|<[=!]))?")


def regex_mutants(regex: str, first: bool = True, last: bool = True) -> Iterator[tuple[str, str]]:
    """(description, mutated regex) for each small change of one regex, or of one piece of a
    pattern joined with `~`: `first` and `last` say whether the piece begins and ends the
    pattern, so that only an alternative wholly inside the piece is deleted."""
    groups: list[tuple[int, list[int]]] = []  # groups opened in this piece: where the content starts, its '|'s
    outside: list[int] = []  # '|'s of the level this piece starts at
    outside_start: int | None = 0 if first else None
    i = 0
    while i < len(regex):
        if regex[i] == "\\":
            atom = REGEX_ATOM.match(regex, i).group()
            if atom in ("\\A", "\\Z"):
                yield f"drop {atom}", regex[:i] + regex[i + 2 :]
                flipped = "\\Z" if atom == "\\A" else "\\A"
                yield f"{atom} -> {flipped}", regex[:i] + flipped + regex[i + 2 :]
            i += len(atom)
            continue
        if regex[i] == "[":
            end = i + 1
            if regex[end : end + 1] == "^":
                end += 1
            body_start = end
            if regex[end : end + 1] == "]":
                end += 1
            while regex[end] != "]":
                end += len(REGEX_ATOM.match(regex, end).group())
            body = regex[body_start:end]
            whole = regex[i : end + 1]
            for start, stop, first_atom, last_atom in class_items(body):
                item = body[start:stop]
                rest = body[:start] + body[stop:]
                if rest:
                    yield f"{short(whole, 30)} without {item}", regex[:body_start] + rest + regex[end:]
                low, high = character(first_atom), character(last_atom)
                if first_atom != last_atom and low and high and ord(high) > ord(low):
                    new = f"{first_atom}-{atom_of(chr(ord(high) - 1))}"
                    yield (
                        f"{short(whole, 30)} with {new} for {item}",
                        (regex[: body_start + start] + new + regex[body_start + stop :]),
                    )
            for char in [char for char in ADDED if not re.fullmatch(whole.replace("[^", "[", 1), char)][:1]:
                new = re.escape(char) if char in "-^]\\" else char
                yield f"{short(whole, 30)} with {char!r}", regex[:end] + new + regex[end:]
            i = end + 1
            continue
        if regex[i] == "(":
            opening = GROUP_OPENING.match(regex, i)
            groups.append((opening.end(), []))
            i = opening.end()
            continue
        if regex[i] == ")":
            if groups:
                content_start, bars = groups.pop()
                yield from drop_alternatives(regex, content_start, bars, i)
            else:
                # It closes a group opened before this piece: that group's first alternative
                # may begin there.
                yield from drop_alternatives(regex, outside_start, outside, i)
                outside, outside_start = [], None
        elif regex[i] == "|":
            (groups[-1][1] if groups else outside).append(i)
        elif regex[i] == "{":
            match = QUANTIFIER.match(regex, i)
            if match:
                low, high = int(match[1]), match[2]
                bounds = [(low + step, high) for step in (-1, 1) if low + step >= 0]
                if high is not None:
                    bounds += [(low, str(int(high) + step)) for step in (-1, 1) if int(high) + step >= low]
                for new_low, new_high in bounds:
                    new = f"{{{new_low}{',' + new_high if new_high is not None else ''}}}"
                    yield f"{match[0]} -> {new}", regex[:i] + new + regex[match.end() :]
                i = match.end()
                continue
        elif regex[i] in "*+" and i > 0:
            other = "+" if regex[i] == "*" else "*"
            yield f"{short(regex[max(0, i - 12) : i + 1], 16)} -> {other}", regex[:i] + other + regex[i + 1 :]
        elif regex[i] == "?" and i > 0:
            yield f"drop ? after {short(regex[max(0, i - 12) : i], 16)}", regex[:i] + regex[i + 1 :]
        i += 1
    yield from drop_alternatives(regex, outside_start, outside, len(regex) if last else None)


def drop_alternatives(regex: str, start: int | None, bars: list[int], end: int | None) -> Iterator[tuple[str, str]]:
    """Delete each alternative between `start` and `end` (None: outside this piece, so the
    alternative next to it stays), split at `bars`."""
    if not bars:
        return
    cuts = [start, *bars, end]
    for n in range(len(cuts) - 1):
        if n == 0 and start is not None:
            yield f"drop alternative {short(regex[start : bars[0]], 20)}", regex[:start] + regex[bars[0] + 1 :]
        elif n > 0 and cuts[n + 1] is not None:
            branch = regex[cuts[n] + 1 : cuts[n + 1]]
            yield f"drop alternative {short(branch, 20)}", regex[: cuts[n]] + regex[cuts[n + 1] :]


def compiles(piece: str) -> bool:
    """Whether a regex, or a piece of one with its groups closed elsewhere, is valid."""
    depth = lowest = 0
    for atom in REGEX_ATOM.finditer(re.sub(r"\[(?:\\.|[^\]\\])*\]", "x", piece)):
        depth += {"(": 1, ")": -1}.get(atom.group(), 0)
        lowest = min(lowest, depth)
    try:
        re.compile("(" * -lowest + piece + ")" * (depth - lowest))
    except re.error:
        return False
    return True


def jinja_literal(text: str) -> str:
    """A single-quoted Jinja string literal for regex text (ASCII, as the rules write them)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unquote(literal: str) -> str:
    return literal[1:-1].encode("ascii", "backslashreplace").decode("unicode-escape")


# --- Jinja ----------------------------------------------------------------------------------

CODE_TOKEN = re.compile(
    r"""(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<number>\d+)|(?P<op>==|!=|>=|<=|//|\*\*|[-+*/%~|.,()\[\]{}:=<>])|(?P<space>\s+)""",
    re.S,
)
TAG = re.compile(r"\{([{%#])([-+]?)")
COMPARISONS = {">": ">=", ">=": ">", "<": "<=", "<=": "<", "==": "!=", "!=": "=="}
NORMALIZING_FILTERS = {"lower", "upper", "trim"}
SWAPPED_METHODS = {
    "partition": "rpartition",
    "rpartition": "partition",
    "startswith": "endswith",
    "endswith": "startswith",
}


@dataclass
class Tag:
    kind: str  # '{', '%' or '#'
    start: int
    end: int
    code_start: int
    code_end: int


def jinja_tags(text: str, start: int = 0, end: int | None = None) -> list[Tag]:
    end = len(text) if end is None else end
    tags = []
    position = start
    while True:
        match = TAG.search(text, position, end)
        if not match:
            return tags
        kind = match[1]
        closing = {"{": "}}", "%": "%}", "#": "#}"}[kind]
        at = match.end()
        if kind == "#":
            stop = text.index(closing, at)
        else:
            stop = at
            while not text.startswith(closing, stop):
                token = CODE_TOKEN.match(text, stop)
                stop = token.end() if token else stop + 1
        code_end = stop - 1 if text[stop - 1] in "-+" else stop
        tags.append(Tag(kind, match.start(), stop + 2, at, code_end))
        position = stop + 2


def code_tokens(text: str, tag: Tag) -> list[tuple[str, str, int, int]]:
    """(kind, text, start, end) of the tokens of one tag's code, spaces left out."""
    tokens = []
    for match in CODE_TOKEN.finditer(text, tag.code_start, tag.code_end):
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), match.start(), match.end()))
    return tokens


def code_mutants(text: str, tag: Tag) -> Iterator[tuple[str, int, int, str]]:
    """(description, start, end, replacement) for each change of one tag's code."""
    tokens = code_tokens(text, tag)
    for n, (kind, token, start, end) in enumerate(tokens):
        before = tokens[n - 1][1] if n else ""
        after = tokens[n + 1][1] if n + 1 < len(tokens) else ""
        if kind == "number":
            for new in (int(token) - 1, int(token) + 1):
                if new >= 0:
                    yield f"{token} -> {new}", start, end, str(new)
        elif kind == "op" and token in COMPARISONS:
            yield f"{token} -> {COMPARISONS[token]}", start, end, COMPARISONS[token]
        elif kind == "name" and token in ("and", "or"):
            other = "or" if token == "and" else "and"
            yield f"{token} -> {other}", start, end, other
        elif kind == "name" and token == "not":
            if after == "in":
                yield "not in -> in", start, tokens[n + 1][3], "in"
            elif before == "is":
                yield "is not -> is", tokens[n - 1][2], end, "is"
            else:
                following = text[end : tokens[n + 1][2]] if n + 1 < len(tokens) else ""
                yield f"drop not before {after}", start, end + len(following), ""
        elif kind == "name" and token == "in" and before != "not" and tokens[0][1] != "for":
            yield "in -> not in", start, end, "not in"
        elif kind == "name" and token in ("true", "false"):
            other = "false" if token == "true" else "true"
            yield f"{token} -> {other}", start, end, other
        elif kind == "name" and token in NORMALIZING_FILTERS and before == "|":
            bar = tokens[n - 1][2]
            stop = end
            if after == "(":  # the filter's arguments go with it
                depth = 0
                for _, text_, _, token_end in tokens[n + 1 :]:
                    depth += {"(": 1, ")": -1}.get(text_, 0)
                    if depth == 0:
                        stop = token_end
                        break
            yield f"drop | {token}", len(text[:bar].rstrip()), stop, ""
        elif kind == "name" and token in SWAPPED_METHODS and before == ".":
            yield f"{token} -> {SWAPPED_METHODS[token]}", start, end, SWAPPED_METHODS[token]
        elif kind == "name" and token in ("first", "last") and before == "." and n >= 2 and tokens[n - 2][1] == "loop":
            other = "last" if token == "first" else "first"
            yield f"loop.{token} -> loop.{other}", start, end, other
        elif kind == "string":
            value = unquote(token)
            if before == "(" and n >= 2 and tokens[n - 2][1] in ("regex_search", "regex_replace"):
                if jinja_literal(value) != token:
                    raise SystemExit(f"cannot write this regex back: {token}")
                for description, regex in regex_mutants(value):
                    if compiles(regex):
                        yield f"regex {description}", start, end, jinja_literal(regex)


def first_word(text: str, tag: Tag) -> str:
    words = text[tag.code_start : tag.code_end].split()
    return words[0] if tag.kind == "%" and words else ""


REASON_LITERAL = re.compile(r"""'[ :]*([a-z][^'{]* [^'{]*[a-z])'""")


def reasons_in(text: str, tags: list[Tag], scope_default: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of what a rule prints as its reason: the whole text of a branch,
    or a string literal of words, in a *_error macro (or a validator) that prints reasons."""
    found = []
    for before, after in zip(tags, tags[1:], strict=False):
        between = text[before.end : after.start]
        scope = scope_at(text, before.end, scope_default)
        if (
            between.strip()
            and first_word(text, before) in ("if", "elif", "else")
            and first_word(text, after) in ("elif", "else", "endif")
            and scope.endswith("_error")
        ):
            offset = before.end + len(between) - len(between.lstrip())
            found.append((offset, offset + len(between.strip()), between.strip()))
    for tag in tags:
        scope = scope_at(text, tag.end, scope_default)
        if not scope.endswith("_error"):
            continue
        for kind, token, start, _ in code_tokens(text, tag):
            match = REASON_LITERAL.fullmatch(token)
            if kind == "string" and match:
                found.append((start + match.start(1), start + match.end(1), match[1]))
    return found


def reason_pool() -> list[str]:
    """Every reason of the rules, in order: a mutant gives a branch the next one."""
    pool = []
    for path, scope in (("templates/rules.jinja", "(top)"), ("copier.yml", "validator_error")):
        text = source(path)
        pool += [reason for _, _, reason in reasons_in(text, jinja_tags(text), scope)]
    return list(dict.fromkeys(pool))


@dataclass
class Chain:
    branches: list[Tag]  # if, elif..., else
    end: Tag


def if_chains(text: str, tags: list[Tag]) -> list[Chain]:
    chains: list[Chain] = []
    stack: list[tuple[str, Chain | None]] = []
    for tag in tags:
        if tag.kind != "%":
            continue
        words = text[tag.code_start : tag.code_end].split()
        word = words[0] if words else ""
        if word == "if":
            stack.append(("if", Chain([tag], tag)))
        elif word in ("elif", "else") and stack and stack[-1][0] == "if":
            stack[-1][1].branches.append(tag)
        elif word == "endif":
            chain = stack.pop()[1]
            chain.end = tag
            chains.append(chain)
        elif word in ("for", "macro") or (word == "set" and "=" not in text[tag.code_start : tag.code_end]):
            stack.append((word, None))
        elif word in ("endfor", "endmacro", "endset"):
            stack.pop()
    return chains


def scope_at(text: str, position: int, default: str) -> str:
    macros = list(re.finditer(r"\{%-?\s*macro\s+(\w+)", text[:position]))
    ends = list(re.finditer(r"endmacro", text[:position]))
    if macros and (not ends or ends[-1].start() < macros[-1].start()):
        return macros[-1][1]
    return default


def jinja_mutants(path: str, text: str, spans: list[tuple[int, int, str]], pool: list[str]) -> Iterator[Mutant]:
    """Mutants of the Jinja in text[start:end] for each (start, end, scope) span."""
    for span_start, span_end, span_scope in spans:
        tags = jinja_tags(text, span_start, span_end)
        for tag in tags:
            if tag.kind == "#":
                continue
            scope = scope_at(text, tag.end, span_scope)
            for description, start, end, replacement in code_mutants(text, tag):
                yield Mutant(path, scope, description, start, end, replacement)
        for start, end, reason in reasons_in(text, tags, "validator_error" if path == "copier.yml" else span_scope):
            other = pool[(pool.index(reason) + 1) % len(pool)]
            yield Mutant(
                path, scope_at(text, start, span_scope), f"reason {short(reason)} -> {short(other)}", start, end, other
            )
        for chain in if_chains(text, tags):
            scope = scope_at(text, chain.branches[0].start, span_scope)
            heads = [tag for tag in chain.branches if first_word(text, tag) != "else"]
            if len(heads) < 2:
                continue
            for n, head in enumerate(heads):
                condition = short(" ".join(text[head.code_start : head.code_end].split()[1:]), 30)
                if n == 0:
                    second = heads[1]
                    tag_text = text[second.start : second.end].replace("elif", "if", 1)
                    yield Mutant(path, scope, f"delete branch if {condition}", head.start, second.end, tag_text)
                else:
                    following = chain.branches[chain.branches.index(head) + 1 :]
                    stop = following[0].start if following else chain.end.start
                    yield Mutant(path, scope, f"delete branch elif {condition}", head.start, stop, "")


# The sets of rules.jinja that hold patterns: building blocks, each string of which is a piece of
# a pattern, and tables of [reason, pattern] rows.
PATTERN_BLOCKS = {"LABEL", "HOST", "PORT"}
ROW_TABLES = {"HOST_ROWS", "RULES"}


def piece_mutants(path: str, scope: str, text: str, tokens: list, indices: range) -> Iterator[Mutant]:
    """The regex mutants of each string among tokens[indices], a pattern or a piece of one
    joined to others with `~`."""
    for n in indices:
        kind, token, start, end = tokens[n]
        if kind != "string":
            continue
        value = unquote(token)
        if jinja_literal(value) != token:
            raise SystemExit(f"cannot write this regex back: {token}")
        first = tokens[n - 1][1] != "~"
        last = n + 1 == len(tokens) or tokens[n + 1][1] != "~"
        for description, regex in regex_mutants(value, first, last):
            if compiles(regex):
                yield Mutant(path, scope, f"regex {description}", start, end, jinja_literal(regex))


def pattern_table_mutants(path: str, text: str) -> Iterator[Mutant]:
    """The patterns of the building blocks and of each row, and for each row: the row deleted
    (as an elif branch is), and its reason swapped with the next row's."""
    for tag in jinja_tags(text):
        tokens = code_tokens(text, tag) if tag.kind == "%" else []
        if len(tokens) < 3 or tokens[0][1] != "set" or tokens[2][1] != "=":
            continue
        name = tokens[1][1]
        if name in PATTERN_BLOCKS:
            yield from piece_mutants(path, name, text, tokens, range(3, len(tokens)))
        if name not in ROW_TABLES:
            continue
        rule = name
        stack: list[tuple[int, list[tuple[int, int]]]] = []  # open brackets: where, and the rows in it
        tables: list[tuple[str, list[tuple[int, int]]]] = []
        for n, (kind, token, _, _) in enumerate(tokens):
            if kind == "string" and n + 1 < len(tokens) and tokens[n + 1][1] == ":" and tokens[stack[-1][0]][1] == "{":
                rule = unquote(token)
            elif kind == "op" and token in ("[", "{", "("):
                stack.append((n, []))
            elif kind == "op" and token in ("]", "}", ")"):
                opening, rows = stack.pop()
                if rows:
                    tables.append((rule, rows))
                if token == "]" and stack and tokens[stack[-1][0]][1] == "[" and tokens[opening + 1][0] == "string":
                    stack[-1][1].append((opening, n))
        for rule, rows in tables:
            for number, (opening, closing) in enumerate(rows):
                reason = tokens[opening + 1]
                scope = f"{rule} [{short(unquote(reason[1]), 30)}]"
                yield from piece_mutants(path, scope, text, tokens, range(opening + 3, closing))
                stop = tokens[closing + 1][3] if tokens[closing + 1][1] == "," else tokens[closing][3]
                yield Mutant(path, scope, "delete row", tokens[opening][2], stop, "")
                if number + 1 < len(rows):
                    other = tokens[rows[number + 1][0] + 1]
                    swapped = other[1] + text[reason[3] : other[2]] + reason[1]
                    yield Mutant(path, scope, "swap reason with the next row's", reason[2], other[3], swapped)


def copier_yml_mutants(text: str, pool: list[str]) -> Iterator[Mutant]:
    """The validators and `when`s of the asked questions (the generated block left out)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    question = ""
    spans = []
    for n, line in enumerate(lines):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            question = top[1]
        key = re.match(r"^(\s+)(validator|when):", line)
        if not key or question == "cookiecutter":
            continue
        indent = len(key[1])
        last = n + 1
        while last < len(lines) and (not lines[last].strip() or len(lines[last]) - len(lines[last].lstrip()) > indent):
            last += 1
        spans.append((offsets[n], offsets[last], question, key[2]))
    for start, end, name, key in spans:
        block = text[start:end]
        scope = name + (" github-app" if len(block) - len(block.lstrip()) > 2 else "")
        if key == "validator":
            yield Mutant("copier.yml", scope, "drop the validator", start, end, "")
            for raw in re.finditer(r"_copier_conf\.data\.get\('\w+'\)", block):
                yield Mutant(
                    "copier.yml", scope, "drop the value as given", start + raw.start(), start + raw.end(), "none"
                )
        yield from (
            Mutant(m.path, f"{scope} {key}", m.description, m.start, m.end, m.replacement)
            for m in jinja_mutants("copier.yml", text, [(start + block.index(":") + 1, end, name)], pool)
        )


# --- tables.jinja -------------------------------------------------------------------------

# Each table's entries deleted one at a time, every n-th of them.
TABLE_SAMPLES = {"KEYWORD_RE": 1, "STDLIB_RE": 10, "FOLD": 50, "NON_PRINTING": 5}


def table_mutants(text: str) -> Iterator[Mutant]:
    for name, every in TABLE_SAMPLES.items():
        match = re.search(rf'set {name} = "([^"]*)"', text)
        start = match.start(1)
        value = match[1]
        if name in ("KEYWORD_RE", "STDLIB_RE"):
            # \\A(?:a|b|...)\\Z, each backslash written twice: a name with the '|' after it, or before
            # it for the last; and each anchor.
            for anchor in ("\\\\A", "\\\\Z"):
                at = value.index(anchor)
                yield Mutant("templates/tables.jinja", name, f"drop {anchor[1:]}", start + at, start + at + 3, "")
            inner = value.index("(?:") + 3
            names = list(re.finditer(r"[^|]+", value[inner : value.rindex(")")]))
            entries = [
                (inner + m.start() - (n == len(names) - 1), inner + m.end() + (n < len(names) - 1), m[0])
                for n, m in enumerate(names)
            ]
        elif name == "FOLD":
            entries = [
                (m.start(), m.end(), m[1])
                for m in re.finditer(r"\|((?:\\u[0-9a-f]{4}|\\U[0-9a-f]{8})=[^|]*)(?=\|)", value)
            ]
        else:
            # One item of the class: an escape, or a range of two (each backslash written twice).
            entries = [
                (m.start(), m.end(), m[0].replace("\\\\", "\\"))
                for m in re.finditer(r"\\\\[xuU][0-9a-f]+(?:-\\\\[xuU][0-9a-f]+)?", value)
            ]
        for n, (entry_start, entry_end, entry) in enumerate(entries):
            if n % every == 0:
                yield Mutant(
                    "templates/tables.jinja",
                    name,
                    f"delete {short(entry, 30)}",
                    start + entry_start,
                    start + entry_end,
                    "",
                )


# --- cookiecutter_questions.py --------------------------------------------------------------

PY_COMPARISONS = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def python_mutants(path: str, text: str) -> Iterator[Mutant]:
    """mutmut's kind of mutants, inside functions only, plus statement deletion."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True) + [""]
    line_offsets = [0]
    for line in lines:
        line_offsets.append(line_offsets[-1] + len(line))

    def offset(line: int, col: int) -> int:
        """ast counts columns in UTF-8 bytes."""
        return line_offsets[line - 1] + len(lines[line - 1].encode()[:col].decode())

    def char_offset(position: tuple[int, int]) -> int:
        """tokenize counts columns in characters."""
        return line_offsets[position[0] - 1] + position[1]

    functions: list[tuple[str, int, int, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            parents = [c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and node in c.body]
            name = ".".join([*parents, node.name])
            if any(node in ast.walk(other) and node is not other for _, _, _, other in functions):
                continue
            body_start = node.body[0]
            if isinstance(body_start, ast.Expr) and isinstance(body_start.value, ast.Constant):
                body_start = node.body[1] if len(node.body) > 1 else body_start
            functions.append(
                (
                    name,
                    offset(body_start.lineno, body_start.col_offset),
                    offset(node.end_lineno, node.end_col_offset),
                    node,
                )
            )
    functions = [f for f in functions if not any(f[3] is not g[3] and f[3] in list(ast.walk(g[3])) for g in functions)]

    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type != tokenize.ENDMARKER]
    for name, start, end, node in functions:
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(node)
            if isinstance(n, ast.FunctionDef)
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        docstring_spans = [
            (offset(n.lineno, n.col_offset), offset(n.end_lineno, n.end_col_offset))
            for n in ast.walk(node)
            if id(n) in docstrings
        ]
        inside = [
            (t, char_offset(t.start), char_offset(t.end))
            for t in tokens
            if start <= char_offset(t.start)
            and char_offset(t.end) <= end
            and not any(a <= char_offset(t.start) < b for a, b in docstring_spans)
        ]
        inside = [
            item
            for item in inside
            if item[0].type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
        ]
        for_depth: list[int] = []
        depth = 0
        for n, (token, t_start, t_end) in enumerate(inside):
            word = token.string
            before = inside[n - 1][0].string if n else ""
            after = inside[n + 1][0].string if n + 1 < len(inside) else ""
            if word in "([{" and token.type == tokenize.OP:
                depth += 1
            elif word in ")]}" and token.type == tokenize.OP:
                depth -= 1
            if token.type == tokenize.OP and word in PY_COMPARISONS:
                yield Mutant(path, name, f"{word} -> {PY_COMPARISONS[word]}", t_start, t_end, PY_COMPARISONS[word])
            elif token.type == tokenize.NAME and word in ("and", "or"):
                other = "or" if word == "and" else "and"
                yield Mutant(path, name, f"{word} -> {other}", t_start, t_end, other)
            elif token.type == tokenize.NAME and word == "for":
                for_depth.append(depth)
            elif token.type == tokenize.NAME and word == "in":
                if for_depth and for_depth[-1] == depth:
                    for_depth.pop()
                elif before == "not":
                    yield Mutant(path, name, "not in -> in", inside[n - 1][1], t_end, "in")
                else:
                    yield Mutant(path, name, "in -> not in", t_start, t_end, "not in")
            elif token.type == tokenize.NAME and word == "not" and after != "in":
                if before == "is":
                    yield Mutant(path, name, "is not -> is", inside[n - 1][1], t_end, "is")
                else:
                    yield Mutant(path, name, f"drop not before {after}", t_start, inside[n + 1][1], "")
            elif token.type == tokenize.NAME and word == "is" and after != "not":
                yield Mutant(path, name, "is -> is not", t_start, t_end, "is not")
            elif token.type == tokenize.NAME and word in ("True", "False"):
                other = "False" if word == "True" else "True"
                yield Mutant(path, name, f"{word} -> {other}", t_start, t_end, other)
            elif token.type == tokenize.NUMBER:
                for new in (int(word) - 1, int(word) + 1):
                    yield Mutant(path, name, f"{word} -> {new}", t_start, t_end, str(new))
            elif token.type == tokenize.STRING and not re.match(r"[a-zA-Z]*[fF]", word):
                prefix = re.match(r"[a-zA-Z]*('''|\"\"\"|'|\")", word)
                quote_end = prefix.end()
                yield Mutant(
                    path,
                    name,
                    f"string {short(word, 30)} -> XX",
                    t_start + quote_end,
                    t_end - len(prefix[1]),
                    "XX" + word[quote_end : len(word) - len(prefix[1])] + "XX",
                )
        for statement in ast.walk(node):
            if statement is node or not isinstance(statement, ast.stmt):
                continue
            s_start = offset(statement.lineno, statement.col_offset)
            s_end = offset(statement.end_lineno, statement.end_col_offset)
            source = short(" ".join(text[s_start:s_end].split()), 40)
            if id(getattr(statement, "value", None)) in docstrings:
                continue
            deletable = isinstance(statement, (ast.Expr, ast.Raise, ast.AugAssign)) or (
                isinstance(statement, ast.Assign) and all(isinstance(t, ast.Attribute) for t in statement.targets)
            )
            if deletable:
                yield Mutant(path, name, f"pass for {source}", s_start, s_end, "pass")
            if (
                isinstance(statement, ast.Return)
                and statement.value is not None
                and not (isinstance(statement.value, ast.Constant) and statement.value.value is None)
            ):
                yield Mutant(path, name, f"return None for {source}", s_start, s_end, "return None")


def all_mutants() -> dict[str, Mutant]:
    mutants: list[Mutant] = []
    pool = reason_pool()
    for path in RULE_FILES:
        text = source(path)
        if path == "copier.yml":
            found = list(copier_yml_mutants(text, pool))
        elif path == "templates/tables.jinja":
            found = list(table_mutants(text))
        elif path.endswith(".py"):
            found = list(python_mutants(path, text))
        else:
            found = list(jinja_mutants(path, text, [(0, len(text), "(top)")], pool))
            found += pattern_table_mutants(path, text)
        unique = {}
        for mutant in found:
            changed = mutant.apply(text)
            if changed != text and (mutant.start, mutant.end, mutant.replacement) not in unique:
                unique[(mutant.start, mutant.end, mutant.replacement)] = mutant
        mutants += unique.values()
    return keyed(mutants)


# --- running --------------------------------------------------------------------------------


def template_copy(destination: Path) -> Path:
    """The template's files (as git sees them, ignored files left out) in a plain directory."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        original = ROOT / name
        if original.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(original, target)
    for path in RULE_FILES:
        (destination / path).write_text(source(path), encoding="utf-8")
    return destination


# A test that took longer than this on the unchanged template runs after the quick ones.
SLOW_TEST = 1.0


class FirstFailure:
    """A pytest plugin: quick tests first, among them those that killed earlier mutants first,
    LAST_TESTS last; it writes down the first failing test and how long each test took."""

    def __init__(self, priority: list[str], slow: set[str], scratch: Path) -> None:
        self.priority = {nodeid: n for n, nodeid in enumerate(priority)}
        self.slow = slow
        self.scratch = scratch
        self.durations: dict[str, float] = {}

    def pytest_collection_modifyitems(self, items: list) -> None:
        def rank(item) -> tuple[int, int, int]:
            last = any(name in item.nodeid for name in LAST_TESTS)
            return (last, item.nodeid in self.slow, self.priority.get(item.nodeid, len(self.priority)))

        items.sort(key=rank)

    def pytest_runtest_logreport(self, report) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0) + report.duration
        if report.failed and not (self.scratch / "killer").exists():
            (self.scratch / "killer").write_text(report.nodeid)

    def pytest_sessionfinish(self) -> None:
        (self.scratch / "durations.json").write_text(json.dumps(self.durations))


def run_in_child(copy: Path, scratch: Path, priority: list[str], slow: set[str]) -> int:
    """Fork; the child runs the fast tests in `copy` and exits with pytest's code."""
    pid = os.fork()
    if pid:
        return pid
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        import pytest

        log = os.open(scratch / "pytest.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(copy)
        # Nothing compiled outlives the run: Jinja's bytecode cache (cookiecutter_questions.py)
        # lives in the temporary directory, this run's own, and Python writes no .pyc of a
        # mutant (its check by mtime and size could take one mutant's for another's).
        tempfile.tempdir = str(scratch / "tmp")
        os.environ["TMPDIR"] = tempfile.tempdir
        sys.dont_write_bytecode = True
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
        arguments = [*FAST_TESTS, "-x", "-q", "-n", "0", "-p", "no:cacheprovider", f"--basetemp={scratch / 'pytest'}"]
        code = pytest.main(arguments, plugins=[FirstFailure(priority, slow, scratch)])
        sys.stdout.flush()
        os._exit(int(code))
    except BaseException:
        import traceback

        traceback.print_exc()
        os._exit(99)


@dataclass
class Result:
    key: str
    status: str  # killed, survived, timeout, equivalent
    seconds: float
    killer: str = ""


def run(mutants: dict[str, Mutant], jobs: int, timeout: float, results_path: Path | None) -> list[Result]:
    # Loaded once here, so that each forked run starts with them in memory.
    import cookiecutter.main  # noqa: F401
    import copier._main  # noqa: F401
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401

    # Stopped with a signal: clean up as after Ctrl-C (the children set their own handler back).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="mutate-rules-"))
    slots = []
    for n in range(jobs):
        slot = work / f"slot{n}"
        # Not named "template": cookiecutter names its replay file after the template's directory,
        # and "template" is replay_file()'s fallback, which a mutant would then hide behind.
        slots.append({"copy": template_copy(slot / "copy"), "scratch": slot / "scratch", "busy": None})

    slow: set[str] = set()

    def start(slot: dict, key: str | None, priority: list[str]) -> None:
        scratch = slot["scratch"]
        shutil.rmtree(scratch, ignore_errors=True)
        (scratch / "tmp").mkdir(parents=True)
        if key:
            mutant = mutants[key]
            target = slot["copy"] / mutant.path
            target.write_text(mutant.apply(source(mutant.path)), encoding="utf-8")
        pid = run_in_child(slot["copy"], scratch, priority, slow)
        slot["busy"] = (key, pid, time.monotonic())

    def finish(slot: dict, code: int | None) -> Result:
        key, _, began = slot["busy"]
        seconds = time.monotonic() - began
        killer_file = slot["scratch"] / "killer"
        killer = killer_file.read_text() if killer_file.exists() else ""
        if key:
            mutant = mutants[key]
            (slot["copy"] / mutant.path).write_text(source(mutant.path), encoding="utf-8")
        slot["busy"] = None
        if code is None:
            return Result(key, "timeout", seconds)
        if code == 0:
            return Result(key, "equivalent" if key in EQUIVALENT else "survived", seconds)
        if code == 1 and killer:
            return Result(key, "killed", seconds, killer)
        log = (slot["scratch"] / "pytest.log").read_text(errors="replace")
        raise SystemExit(f"the fast tests could not run ({key or 'unchanged template'}, exit {code}):\n{log[-3000:]}")

    try:
        # The unchanged template first: every fast test must pass, and its time sets the timeout.
        start(slots[0], None, [])
        _, pid, _ = slots[0]["busy"]
        _, status = os.waitpid(pid, 0)
        durations = json.loads((slots[0]["scratch"] / "durations.json").read_text())
        slow.update(nodeid for nodeid, seconds in durations.items() if seconds > SLOW_TEST)
        if not list((slots[0]["scratch"] / "tmp").glob("_jinja2-cache-*/*")):
            raise SystemExit("Jinja's bytecode cache is not in the run's own temporary directory")
        baseline = finish(slots[0], os.waitstatus_to_exitcode(status))
        print(f"unchanged template: fast tests pass in {baseline.seconds:.1f} s", flush=True)
        timeout = max(timeout, 3 * baseline.seconds)

        # The mutants judged equivalent last: they run every test, and the others tell more.
        pending = sorted(mutants, key=lambda key: key in EQUIVALENT)
        results: list[Result] = []
        killers: list[str] = []
        while pending or any(slot["busy"] for slot in slots):
            for slot in slots:
                if not slot["busy"] and pending:
                    start(slot, pending.pop(0), killers)
            time.sleep(0.05)
            for slot in slots:
                if not slot["busy"]:
                    continue
                key, pid, began = slot["busy"]
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done and time.monotonic() - began < timeout:
                    continue
                if not done:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                result = finish(slot, os.waitstatus_to_exitcode(status) if done else None)
                results.append(result)
                if result.killer:
                    if result.killer in killers:
                        killers.remove(result.killer)
                    killers.insert(0, result.killer)
                print(f"[{len(results)}/{len(mutants)}] {result.status:<10} {result.seconds:5.1f} s  {key}", flush=True)
                if results_path:
                    results_path.write_text(json.dumps([asdict(r) for r in results], indent=1))
        return results
    finally:
        # Interrupted: stop the runs still going, and leave no copy behind.
        for slot in slots:
            if slot["busy"]:
                os.kill(slot["busy"][1], signal.SIGKILL)
                os.waitpid(slot["busy"][1], 0)
        shutil.rmtree(work, ignore_errors=True)


def report(results: list[Result]) -> None:
    counted = [r for r in results if r.status != "equivalent"]
    killed = [r for r in counted if r.status in ("killed", "timeout")]
    print()
    timeouts = sum(r.status == "timeout" for r in results)
    print(f"mutants: {len(results)}, equivalent: {len(results) - len(counted)}, killed: {len(killed)}", end="")
    print(f" ({timeouts} by timeout)" if timeouts else "")
    if counted:
        print(
            f"kill rate: {len(killed)}/{len(counted)} = {100 * len(killed) / len(counted):.1f}% of the non-equivalent"
        )
    late = [r.key for r in killed if any(name in r.killer for name in LAST_TESTS)]
    if late:
        print(f"killed only by {LAST_TESTS[0]} (an edit of a generated file): {len(late)}")
        for key in late:
            print(f"  {key}")
    for result in results:
        if result.status == "equivalent":
            print(f"  equivalent: {result.key}  ({EQUIVALENT[result.key]})")
    for result in results:
        if result.status == "survived":
            print(f"  SURVIVED:   {result.key}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the mutants' keys and changes, run nothing")
    parser.add_argument("--only", action="append", default=[], help="run the mutants whose key holds this text")
    parser.add_argument(
        "--survivors-of", type=Path, help="run the mutants that survived or timed out in this results file"
    )
    parser.add_argument("--results", type=Path, help="write each result to this JSON file as it comes")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds before a run counts as killed")
    options = parser.parse_args(argv)

    mutants = all_mutants()
    stale = set(EQUIVALENT) - set(mutants)
    if stale:
        raise SystemExit(f"EQUIVALENT names mutants that no longer exist: {sorted(stale)}")
    if options.only:
        mutants = {key: m for key, m in mutants.items() if any(text in key for text in options.only)}
    if options.survivors_of:
        earlier = json.loads(options.survivors_of.read_text())
        again = {r["key"] for r in earlier if r["status"] in ("survived", "equivalent", "timeout")}
        mutants = {key: m for key, m in mutants.items() if key in again}
    if options.list:
        for key, mutant in mutants.items():
            original = source(mutant.path)[mutant.start : mutant.end]
            print(f"{key}\n    {short(original, 70)!s} -> {short(mutant.replacement, 70)}")
        print(f"{len(mutants)} mutants")
        return 0
    report(run(mutants, options.jobs, options.timeout, options.results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

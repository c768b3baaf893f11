"""Write what follows from copier.yml's questions and the git_auth modes, so each is defined once.

    python3 maintainer/write_question_files.py          rewrite the files
    python3 maintainer/write_question_files.py --check  fail when any is stale (the tests run this)

- cookiecutter.json: the same questions, defaults and help for cookiecutter; derived defaults
  and every validator are read from copier.yml at run time (cookiecutter_questions.py).
- templates/tables.jinja: Python's own tables that the rules need and stock Jinja lacks
  (Unicode folding, keywords, standard-library modules, non-printing characters), and the rows
  of templates/git_auth/modes.yml as GIT_AUTH_MODES.
- copier.yml's generated blocks: the `git_auth` question's help and choices, from those rows;
  the answers under the `cookiecutter` name the tree uses.
- README.md's question table, from each question's help, default and choices, and its table of
  the git_auth modes.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
MODES_YML = ROOT / "templates" / "git_auth" / "modes.yml"
README = ROOT / "README.md"
README_TABLE = re.compile(r"(?ms)^(<!-- questions: .*? -->\n)(.*?)(^<!-- end questions -->\n)")
README_MODES = re.compile(r"(?ms)^(<!-- git_auth modes: .*? -->\n)(.*?)(^<!-- end modes -->\n)")
BLOCK = re.compile(r"(?ms)^(# \[generated\].*?\n)(cookiecutter:.*?)(^# \[end generated\]\n)")
MODES_BLOCK = re.compile(r"(?ms)^(  # \[generated\] .*?\n)(.*?)(^  # \[end generated\]\n)")
# What the generated help of git_auth starts with, before a line for each mode.
MODES_HELP = "How CI reads the private repositories. What an org owner sets up for each:"
# The fields of a mode's row (templates/git_auth/modes.yml says what each holds), with what a
# missing optional one reads as, so that every consumer finds every field.
MODE_FIELDS = ["help", "creates", "costs", "pick_when", "reads", "fetch_flags", "readme"]
MODE_OPTIONAL: dict[str, Any] = {
    "validator": "",
    "steps": "",
    "actions": [],
    "fetch_env": {},
    "org_setup": [],
    "other_orgs": "",
    "readme_several_orgs": "",
    "local_note": "",
    "protection": "",
}
READ_FIELDS = ["kind", "name", "holds", "input", "description"]
# What scripts/fetch_private_sources.sh reads of the credential, by its flags: the fetch step must
# receive exactly these (its env-keeping line names the same).
FETCH_VARIABLES = {
    "": ["PRIVATE_GIT_TOKEN"],
    "--per-repository-credential": ["PRIVATE_GIT_TOKEN"],
    "--ssh": ["SSH_PRIVATE_KEY", "SSH_KNOWN_HOSTS"],
}
# The setup action's own inputs, which no mode's input may take.
ACTION_INPUTS = {"python-version", "poetry-version", "sources-key", "package-index-username", "package-index-password"}
# What a row's texts may hold, filled by templates/git_auth/mode.jinja's fill().
PLACEHOLDERS = {"token_secret_name", "secret", "org", "orgs", "host_name", "mode"}
# copier cuts a line of help at the terminal's edge: at 80 columns, a line after the first holds
# 80 characters (copier.yml says more).
HELP_LINE_WIDTH = 80
# cookiecutter's module for this template; cookiecutter.json names it in _extensions.
EXTENSION = "cookiecutter_questions.CopierQuestions"
# Its private variable that runs copier.yml's validators (hooks/pre_gen_project.py says why there).
VALIDATION_KEY = "__validate_answers"

# Soft keywords and modules of supported Pythons that the running one may lack (3.12 added the
# `type` soft keyword; 3.14 added annotationlib and compression; 3.12 and 3.13 removed the
# rest), so a package name is judged the same on every supported Python.
OTHER_KEYWORDS = {"type"}
OTHER_STDLIB_MODULES = set(
    "annotationlib compression asynchat asyncore distutils imp smtpd aifc audioop cgi cgitb chunk "
    "crypt imghdr lib2to3 mailcap msilib nis nntplib ossaudiodev pipes sndhdr spwd sunau telnetlib "
    "uu xdrlib".split()
)
# Characters that must not reach metadata, a README or a YAML file: controls, format characters
# (bidi overrides, zero-width), line and paragraph separators, surrogates, private use, and every
# space but the ASCII one.
NON_PRINTING_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"}


def questions(copier: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The asked questions, in order: settings (`_...`) and the computed mapping left out."""
    return {name: spec for name, spec in copier.items() if not name.startswith("_") and spec.get("when") is not False}


def choice_values(spec: dict[str, Any]) -> list[Any]:
    choices = spec.get("choices", [])
    if isinstance(choices, dict):
        return [value["value"] if isinstance(value, dict) else value for value in choices.values()]
    return list(choices)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def plain_yaml(text: Any) -> bool:
    """Whether YAML reads this text, written unquoted after a key, back as itself."""
    try:
        return bool(yaml.safe_load(f"k: {text}") == {"k": text})
    except yaml.YAMLError:
        return False


def row_problems(mode: str, row: Any) -> list[str]:
    """What breaks the table's rules in one row, each naming the field and the fix. A row's
    values reach workflows, a shell line and commands people paste, so each has a shape."""
    if not isinstance(row, dict):
        return ["a row is a mapping of the fields modes.yml's header lists"]
    problems = []
    if not re.fullmatch(r"[a-z][a-z0-9-]*", mode):
        problems.append("the mode's name: a-z, 0-9 and hyphens, starting with a letter")
    unknown = sorted(set(row) - set(MODE_FIELDS) - set(MODE_OPTIONAL))
    missing = [field for field in MODE_FIELDS if field not in row]
    if unknown or missing:
        problems.append(
            f"unknown fields {unknown}, missing fields {missing}: the fields are {MODE_FIELDS + list(MODE_OPTIONAL)}"
        )
        return problems
    texts = [f for f in MODE_FIELDS + list(MODE_OPTIONAL) if f not in ("reads", "actions", "org_setup", "fetch_env")]
    problems += [f"{field}: a text" for field in texts if field in row and not isinstance(row[field], str)]
    problems += [
        f"{field}: a list of texts"
        for field in ("actions", "org_setup")
        if field in row and not (isinstance(row[field], list) and all(isinstance(item, str) for item in row[field]))
    ]
    fetch_env = row.get("fetch_env", {})
    if not isinstance(fetch_env, dict) or not all(
        re.fullmatch(r"[a-z][a-z0-9_.-]*", str(v)) for v in fetch_env.values()
    ):
        problems.append("fetch_env: a mapping of variables to expressions such as steps.app-token.outputs.token")
        fetch_env = {}
    for text in [row[field] for field in texts if isinstance(row.get(field), str)]:
        problems += [
            f"{{{name}}}: no such placeholder; modes.yml's header lists them"
            for name in re.findall(r"\{(\w+)\}", text)
            if name not in PLACEHOLDERS
        ]
    if row["fetch_flags"] not in FETCH_VARIABLES:
        problems.append(
            f"fetch_flags: one of {list(FETCH_VARIABLES)}, the flags scripts/fetch_private_sources.sh takes"
        )
        return problems
    reads = row["reads"] if isinstance(row["reads"], list) else []
    if not reads or not all(isinstance(read, dict) for read in reads):
        return problems + ["reads: a list of what CI reads, each a mapping"]
    for number, read in enumerate(reads, 1):
        where = f"reads[{number}]"
        if set(read) - {"env"} != set(READ_FIELDS):
            problems.append(f"{where}: has {READ_FIELDS}, and env if the fetch step receives it")
            continue
        if read["kind"] not in ("secret", "variable"):
            problems.append(f"{where}: kind is secret or variable")
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*|\{token_secret_name\}", str(read["name"])):
            problems.append(
                f"{where}: name is an organization secret's or variable's name (A-Z, 0-9, _) or {{token_secret_name}}"
            )
        if not re.fullmatch(r"[a-z][a-z0-9-]*", str(read["input"])) or read["input"] in ACTION_INPUTS:
            problems.append(
                f"{where}: input is a-z, 0-9 and hyphens, and none of the action's own {sorted(ACTION_INPUTS)}"
            )
        for field in ("holds", "description"):
            # Written unquoted into YAML and Markdown: a text that YAML reads back as itself.
            if not plain_yaml(read[field]):
                problems.append(f"{where}: {field} is one line that YAML reads as plain text (no ': ' or ' #')")
    inputs = [read.get("input") for read in reads]
    if len(set(inputs)) != len(inputs):
        problems.append("reads: each input once")
    if [read.get("kind") for read in reads].count("secret") != 1:
        problems.append("reads: exactly one secret, the one a run cannot do without")
    given = [read["env"] for read in reads if read.get("env")] + list(fetch_env)
    needed = FETCH_VARIABLES[row["fetch_flags"]]
    if sorted(given) != sorted(needed):
        problems.append(
            f"the fetch step receives {sorted(given)} (reads' env and fetch_env); with fetch_flags "
            f"{row['fetch_flags']!r} scripts/fetch_private_sources.sh reads exactly {sorted(needed)}"
        )
    if row.get("steps") and not (ROOT / row["steps"]).is_file():
        problems.append(f"steps: {row['steps']} does not exist; name a file under templates/git_auth/")
    return problems


def git_auth_modes(path: Path = MODES_YML) -> dict[str, dict[str, Any]]:
    """The rows of templates/git_auth/modes.yml, each with every field; a row that breaks the
    table's rules stops the writer with the field and the fix."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    modes: dict[str, dict[str, Any]] = {}
    for mode, row in rows.items():
        problems = row_problems(mode, row)
        if problems:
            raise SystemExit(f"{path.name}: {mode}: " + f"\n{path.name}: {mode}: ".join(problems))
        missing_optional = {field: empty for field, empty in MODE_OPTIONAL.items() if field not in row}
        modes[mode] = {
            **row,
            **missing_optional,
            "reads": [{**read, "env": read.get("env", "")} for read in row["reads"]],
        }
    return modes


def cookiecutter_json(copier: dict[str, Any]) -> str:
    data: dict[str, Any] = {}
    prompts: dict[str, str] = {}
    for name, spec in questions(copier).items():
        default = spec.get("default")
        if spec.get("choices"):
            values = choice_values(spec)
            data[name] = [default, *(value for value in values if value != default)]
        elif is_template(default):
            data[name] = f"{{{{ default_of('{name}', cookiecutter) }}}}"
        else:
            data[name] = default
        # The help's lines are broken for copier, which cuts them at the terminal's edge; Rich
        # wraps cookiecutter's prompts itself, so only an indented line starts a new one. Rich
        # would read "[org/]" as markup.
        prompts[name] = re.sub(r"\n(?=\S)", " ", spec["help"]).replace("[", "\\[")
    # The answers file both engines write, so a project takes `copier update` whichever made it.
    data["__answers"] = ".copier-answers.yml"
    # Rendered after the last question, before cookiecutter creates anything.
    data[VALIDATION_KEY] = "{{ validate_answers(cookiecutter) }}"
    data["_extensions"] = [EXTENSION]
    data["__prompts__"] = prompts
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def jinja_string(text: str) -> str:
    """A Jinja string literal holding `text`, written with ASCII escapes only. Jinja reads the
    escapes as Python's unicode-escape codec does, which joins no surrogate pairs, so a character
    past U+FFFF is one \\U escape (json.dumps would write a pair that never matches)."""

    def escape(char: str) -> str:
        code = ord(char)
        if char in '"\\':
            return "\\" + char
        if char == "\n":
            return "\\n"
        if 0x20 <= code < 0x7F:
            return char
        return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return '"' + "".join(map(escape, text)) + '"'


def regex_class(codepoints: list[int]) -> str:
    """A regex character class of these code points, as ranges of \\x/\\u/\\U escapes."""
    ranges: list[list[int]] = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])

    def escape(cp: int) -> str:
        return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"

    return "[" + "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges) + "]"


def whole_word(words: list[str]) -> str:
    """A pattern that finds exactly one of these words, as the whole text."""
    return "\\A(?:" + "|".join(map(re.escape, words)) + ")\\Z"


def folded(ch: str) -> str:
    """What one non-ASCII character becomes in a slug: its NFKD ASCII letters and digits,
    lower-cased, with anything else a hyphen ("" when nothing ASCII is left)."""
    ascii_text = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "-", ascii_text)


def jinja_literal(value: Any) -> str:
    """A Jinja literal of YAML data: mappings, lists, strings and booleans."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{jinja_string(key)}: {jinja_literal(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(jinja_literal, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return jinja_string(str(value))


def tables_jinja(copier: dict[str, Any], modes: dict[str, dict[str, Any]]) -> str:
    every = [cp for cp in range(0x110000)]
    non_printing = [cp for cp in every if unicodedata.category(chr(cp)) in NON_PRINTING_CATEGORIES and chr(cp) != " "]
    # A name holding an invisible character is refused before it is folded: no entry for one.
    hidden = set(non_printing)
    fold = "".join(f"|{chr(cp)}={folded(chr(cp))}" for cp in every[0x80:] if cp not in hidden and folded(chr(cp)))
    fold += "|"
    keywords = sorted(set(keyword.kwlist) | set(keyword.softkwlist) | OTHER_KEYWORDS)
    modules = sorted(set(sys.stdlib_module_names) | OTHER_STDLIB_MODULES)
    pythons = choice_values(copier["python_version"])
    lines = [
        "{#- Written by maintainer/write_question_files.py from Python's own tables"
        f" (Unicode {unicodedata.unidata_version}): do not edit. -#}}",
        "{%- set KEYWORD_RE = " + jinja_string(whole_word(keywords)) + " -%}",
        "{%- set STDLIB_RE = " + jinja_string(whole_word(modules)) + " -%}",
        # `|<character>=<what it becomes in a slug>|`, for each character that leaves something.
        "{%- set FOLD = " + jinja_string(fold) + " -%}",
        "{%- set NON_PRINTING = " + jinja_string(regex_class(non_printing)) + " -%}",
        "{%- set SUPPORTED_PYTHONS = " + json.dumps(pythons) + " -%}",
        "{#- The rows of templates/git_auth/modes.yml, one line each. -#}",
        "{%- set GIT_AUTH_MODES = {",
        *(f"  {jinja_string(mode)}: {jinja_literal(row)}," for mode, row in modes.items()),
        "} -%}",
        "{#- The modes that read the secret named by token_secret_name, so that question is asked. -#}",
        "{%- set TOKEN_SECRET_MODES = "
        + jinja_literal(
            [mode for mode, row in modes.items() if any(r["name"] == "{token_secret_name}" for r in row["reads"])]
        )
        + " -%}",
    ]
    return "\n".join(lines) + "\n"


def git_auth_question(modes: dict[str, dict[str, Any]]) -> str:
    """The help and choices of copier.yml's git_auth question: a line or more for each mode."""
    width = max(map(len, modes)) + 2
    lines = ["  help: |-", f"    {MODES_HELP}"]
    for mode, row in modes.items():
        for number, line in enumerate(row["help"].splitlines()):
            shown = f"  {(mode if number == 0 else '').ljust(width)}{line}"
            if len(shown) > HELP_LINE_WIDTH:
                raise SystemExit(f"{MODES_YML.name}: {mode}: help: shorten the line {line!r}; copier cuts it at 80")
            lines.append(f"    {shown}")
    lines.append("  choices:")
    for mode, row in modes.items():
        if row["validator"]:
            validator = textwrap.wrap(row["validator"], 88, break_long_words=False, break_on_hyphens=False)
            lines += [
                f"    {mode}:",
                f"      value: {mode}",
                "      validator: >-",
                *(f"        {v}" for v in validator),
            ]
        else:
            lines.append(f"    {mode}: {mode}")
    return "\n".join(lines) + "\n"


def with_git_auth_question(text: str, modes: dict[str, dict[str, Any]]) -> str:
    return MODES_BLOCK.sub(lambda match: match[1] + git_auth_question(modes) + match[3], text, count=1)


def copier_yml(text: str, copier: dict[str, Any]) -> str:
    names = [name for name in questions(copier)]
    pairs = ", ".join(f"'{name}': {name}" for name in names)
    block = (
        "cookiecutter:\n"
        "  type: json\n"
        "  when: false\n"
        "  default: >-\n"
        f"    {{{{ {{{pairs}, '__answers': _copier_conf.answers_file | string}} | tojson }}}}\n"
    )
    return BLOCK.sub(lambda match: match[1] + block + match[3], text, count=1)


def readme_help(help_text: str) -> str:
    """A question's help as one table cell: its first clause (up to a colon or semicolon) without
    asides in parentheses, before any indented list of the choices explained. The prompts show the whole help; the
    README stays short enough to read at a glance."""
    lead = []
    for line in help_text.splitlines():
        if line.startswith("  "):
            break
        lead.append(line.strip())
    first = re.split(r"(?<![eE]\.g\.)(?<=[.?])\s+(?=[A-Z])", " ".join(lead), maxsplit=1)[0]
    summary = re.sub(r"\s*\([^()]*\)", "", first).split(": ")[0].split("; ")[0]
    return summary.replace("|", "\\|")


def readme_default(spec: dict[str, Any], names: list[str]) -> str:
    """The default as a reader sees it; a computed one names the answers it follows from."""
    default = spec.get("default")
    if isinstance(default, bool):
        return "yes" if default else "no"
    if is_template(default):
        sources = [name for name in names if re.search(rf"\b{name}\b", default)]
        return "from " + ", ".join(f"`{name}`" for name in sources)
    shown = f"`{default}`" if default != "" else "empty"
    others = [value for value in choice_values(spec) if value != default]
    return shown + (f" (or {', '.join(f'`{value}`' for value in others)})" if others else "")


def readme_md(text: str, copier: dict[str, Any], modes: dict[str, dict[str, Any]]) -> str:
    default = copier["git_auth"]["default"]
    rows = ["| `git_auth` | the organization creates | costs | pick it when |", "|---|---|---|---|"]
    for mode, row in modes.items():
        name = f"`{mode}`" + (" (default)" if mode == default else "")
        rows.append(f"| {name} | {row['creates']} | {row['costs']} | {row['pick_when']} |")
    text = README_MODES.sub(lambda match: match[1] + "\n".join(rows) + "\n" + match[3], text, count=1)
    names = list(questions(copier))
    rows = ["| question | what it asks | default |", "|---|---|---|"]
    for name, spec in questions(copier).items():
        rows.append(f"| `{name}` | {readme_help(spec['help'])} | {readme_default(spec, names)} |")
    table = "\n".join(rows) + "\n"
    return README_TABLE.sub(lambda match: match[1] + table + match[3], text, count=1)


def outputs() -> dict[Path, str]:
    modes = git_auth_modes()
    # git_auth's question first: the other files follow from copier.yml's questions.
    text = with_git_auth_question(COPIER_YML.read_text(encoding="utf-8"), modes)
    copier = yaml.safe_load(text)
    text = copier_yml(text, copier)
    return {
        ROOT / "cookiecutter.json": cookiecutter_json(copier),
        ROOT / "templates" / "tables.jinja": tables_jinja(copier, modes),
        COPIER_YML: text,
        README: readme_md(README.read_text(encoding="utf-8"), copier, modes),
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, content in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                stale.append(path.relative_to(ROOT).as_posix())
        else:
            path.write_text(content, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python3 maintainer/write_question_files.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

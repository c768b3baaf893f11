#!/usr/bin/env python3
"""Bring a repository that was not generated from this template under it.

    python3 scripts/adopt.py --template https://github.com/your-org/python-template.git \\
        --ref v1.2.0 [--data question=value ...] path/to/repository

1. Infers the answers from the repository's pyproject.toml (PEP 621 `[project]` or Poetry 1's
   `[tool.poetry]`) and prints each with where it came from. `--data` overrides any answer;
   the questions it cannot infer take the template's defaults.
2. Renders the template at that tag with copier into a temporary directory. copier runs the
   template's own validators, and `.copier-answers.yml` records the https URL and the tag, as
   `copier update` and Renovate's copier manager need.
3. Commits the rendered tree as a commit of its own (no parent) and merges it into a new branch
   `adopt-template` with `--allow-unrelated-histories --no-commit`: the repository's own files
   stay, the template's new files are added, and every file both have is a git conflict.
4. Prints what it did and what a person resolves by hand (docs/adopting.md walks through it).

Standard library only, plus copier on PATH. It refuses a working tree with changes, and it
changes nothing in the repository until copier has accepted every answer.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# copier.yml's python_version choices, oldest first (a test keeps them equal).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
BRANCH = "adopt-template"
# The template's workflows: any other workflow of the repository is a legacy one.
TEMPLATE_WORKFLOWS = {"ci.yml", "release.yml", "template-update.yml"}
# Tools whose work the template's ruff does (lint, format, import order).
REPLACED_BY_RUFF = {"black", "isort", "flake8", "autopep8", "pyupgrade", "autoflake", "pycodestyle", "pyflakes"}

TEMPLATE_URL = re.compile(r"\Ahttps://[A-Za-z0-9.-]+(?::[0-9]{1,5})?/[A-Za-z0-9._~/-]+\Z")
RELEASE_TAG = re.compile(r"\Av(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\Z")
QUESTION = re.compile(r"\A[a-z][a-z0-9_]*\Z")
IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
# Shapes a part must have before it is joined into the `[org/]repo@ref, ...` answer: a comma or
# a space would split one entry into two. What else is allowed is copier's rule to decide.
ORG_SHAPE = re.compile(r"\A[A-Za-z0-9-]+\Z")
REPO_SHAPE = re.compile(r"\A[A-Za-z0-9._-]+\Z")
REF_SHAPE = re.compile(r"\A[^\s,]+\Z")
SCP_LIKE = re.compile(r"\A(?:[A-Za-z0-9._-]+@)?(?P<host>[A-Za-z0-9.-]+):(?!//)(?P<path>\S+)\Z")
AUTHOR = re.compile(r"\A\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*\Z")
PEP508_DIRECT = re.compile(r"\A\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*(?P<url>[^\s;]+)")
PEP508_SIMPLE = re.compile(r"\A\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<spec>(?:[<>=!~]=?[^;\[\]]*)?)\s*\Z")
PYTHON_BOUND = re.compile(r"\A(?P<op>\^|~=|~|>=|>|===|==|=|<=|<|!=)?\s*(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+|\*))?")
# Workflow text that lints, tests or installs (the template's ci.yml does), and text that hands
# a token to git through the disk or a URL (the template's setup action never does).
INSTALLS = re.compile(r"poetry\s+(?:install|sync|run)|pip\s+install|pytest|setup-python", re.I)
CREDENTIAL_ON_DISK = re.compile(
    r"setup-git-credentials|git-credentials|credential\.helper\s+store|insteadOf|extraheader"
    r"|://[^\s'\"]*\$\{\{\s*secrets\.",
    re.I,
)


# A URL with a user name or password in it: never printed.
CREDENTIAL_URL = re.compile(r"https?://[^/\s@\"']*@", re.I)


class Refused(Exception):
    """The tool stops here; nothing in the repository has changed."""


class Rejected(Exception):
    """copier's validators rejected an answer."""

    def __init__(self, question: str, reason: str) -> None:
        super().__init__(f"{question}: {reason}")
        self.question, self.reason = question, reason


# ----------------------------------------------------------------------------- showing values


def safe(text: str) -> str:
    """Text with every non-printing character but the line break escaped, so nothing read from
    the repository can move the cursor or hide text in this tool's output."""
    return "".join(ch if ch.isprintable() or ch == "\n" else ch.encode("unicode_escape").decode("ascii") for ch in text)


def shown(value: str) -> str:
    """A value from the repository, quoted, with quotes, backslashes and line breaks escaped too."""
    return '"' + safe(value.replace("\\", "\\\\").replace('"', '\\"')).replace("\n", "\\n") + '"'


def say(line: str = "") -> None:
    print(safe(line))


def toml_value(value: Any) -> str:
    """A TOML value for a line a person copies into pyproject.toml.

    Written here rather than with tomli-w, which the tests use: this file is standard library
    only, so an adopter can copy it alone (docs/adopting.md), and its lines are single
    `key = value` lines with inline tables (`lib = { git = ..., tag = ... }`) to paste under a
    table of the person's own file, where tomli-w writes whole documents and has no public call
    for one inline value. tests/test_adopt.py reads every value back with tomllib."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_toml_char(ch) for ch in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    return toml_value(str(value))


def _toml_char(ch: str) -> str:
    if ch in '"\\':
        return "\\" + ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F or not ch.isprintable():
        return f"\\u{ord(ch):04X}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08X}"
    return ch


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that PyYAML reads back exactly: line breaks, controls and
    anything outside YAML's printable set escaped, the rest (accents, emoji) as they are."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code <= 0x7E or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029)):
            out.append(ch)
        elif (0xE000 <= code <= 0xFFFD and code != 0xFEFF) or code >= 0x10000:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02X}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


# ----------------------------------------------------------------------------- inference


@dataclass(frozen=True)
class Answer:
    value: str
    source: str


@dataclass(frozen=True)
class GitDependency:
    name: str  # its key (Poetry) or name (PEP 508) in pyproject.toml
    where: str  # the table or list it is in
    url: str  # as shown: any credential left out
    host: str  # host[:port] of an https URL; the host name alone of an SSH one
    web: bool  # an https URL: its port, if any, is the web's
    org: str
    repo: str
    ref: str  # tag, branch or rev as given; "" when none


@dataclass
class Inference:
    answers: dict[str, Answer] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dependencies: list[GitDependency] = field(default_factory=list)  # those in private_dependencies
    left_out: list[str] = field(default_factory=list)  # git dependencies a person carries over by hand


def table(data: Any, *keys: str) -> dict[str, Any]:
    """data[k1][k2]..., or {} where any level is missing or is not a table."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def split_git_url(url: str) -> tuple[str, bool, str, bool] | None:
    """(host, web, path, holds a credential) of a git URL in one of the spellings projects use:
    https://host/org/repo.git, ssh://git@host[:port]/org/repo.git, git@host:org/repo.git (each
    may carry git+). None for anything else (file paths, ext::, option-like text)."""
    text = url[4:] if url.startswith("git+") else url
    if text.startswith(("https://", "http://", "ssh://")):
        try:
            parts = urllib.parse.urlsplit(text)
            port = parts.port
        except ValueError:
            return None
        if not parts.hostname:
            return None
        web = parts.scheme != "ssh"
        credential = parts.password is not None or (web and parts.username is not None)
        # An SSH URL's port is SSH's, not the web's: only the host name carries over.
        host = f"{parts.hostname}:{port}" if web and port else parts.hostname
        return host, web, parts.path, credential
    match = SCP_LIKE.match(text)
    if match:
        return match["host"].lower(), False, match["path"], False
    return None


def git_location(url: str, where: str, name: str, ref: str, notes: list[str]) -> GitDependency | None:
    split = split_git_url(url)
    if split is None:
        readable = CREDENTIAL_URL.sub(lambda match: match[0].partition("//")[0] + "//***@", url)
        notes.append(
            f"{where} {shown(name)}: {shown(readable)} is not a git URL this tool reads; carry it over by hand."
        )
        return None
    host, web, path, credential = split
    segments = path.strip("/").removesuffix(".git").split("/")
    # As written, unless it holds a credential: then rebuilt without it.
    shown_url = f"https://{host}/{path.strip('/')}" if credential else url
    if credential:
        notes.append(
            f"{where} {shown(name)}: its URL holds a credential (not shown here). The template's URL holds "
            "none; revoke that credential."
        )
    if len(segments) != 2 or not all(segments):
        notes.append(f"{where} {shown(name)}: {shown(shown_url)} is not host/org/repo; carry it over by hand.")
        return None
    return GitDependency(name, where, shown_url, host, web, segments[0], segments[1], ref)


def poetry_git_dependencies(dependencies: dict[str, Any], where: str, notes: list[str]) -> list[GitDependency]:
    found = []
    for name, spec in dependencies.items():
        if isinstance(spec, dict) and "git" in spec:
            url = spec["git"]
            refs = [spec[key] for key in ("tag", "branch", "rev") if key in spec]
            if not isinstance(url, str) or not all(isinstance(ref, str) for ref in refs):
                notes.append(f"{where} {shown(name)}: its git URL or ref is not text; carry it over by hand.")
                continue
            dependency = git_location(url, where, name, refs[0] if refs else "", notes)
            if dependency:
                found.append(dependency)
        elif isinstance(spec, list) and any(isinstance(item, dict) and "git" in item for item in spec):
            notes.append(f"{where} {shown(name)}: a git dependency with several constraints; carry it over by hand.")
    return found


def pep508_git_dependencies(requirements: list[Any], where: str, notes: list[str]) -> list[GitDependency]:
    """`name @ git+https://host/org/repo.git@ref` (and git+ssh) entries of a PEP 508 list."""
    found = []
    for requirement in requirements:
        match = PEP508_DIRECT.match(requirement) if isinstance(requirement, str) else None
        if not match or not match["url"].startswith("git+"):
            continue
        url = match["url"].partition("#")[0]
        scheme, slash, rest = url.partition("://")
        authority, _, path = rest.partition("/")
        # The ref follows the path's last @ (an SSH URL's git@ is in the authority, before it).
        path, _, ref = path.rpartition("@") if "@" in path else (path, "", "")
        dependency = git_location(f"{scheme}{slash}{authority}/{path}", where, match["name"], ref, notes)
        if dependency:
            found.append(dependency)
    return found


def most_common(values: Iterable[str]) -> str:
    """The most frequent value; the first seen among equals."""
    counts = Counter(values)
    return max(counts, key=lambda value: (counts[value], -list(counts).index(value)))


def infer_private_dependencies(found: list[GitDependency], inference: Inference) -> None:
    answers, notes = inference.answers, inference.notes
    if not found:
        answers["private_dependencies"] = Answer("", "no git dependencies in pyproject.toml")
        notes.append(
            "No git dependencies: github_host and github_org take the template's defaults "
            "(pass --data github_org=YOUR_ORG)."
        )
        return
    host_name = most_common(dep.host.partition(":")[0] for dep in found)
    on_host = [dep for dep in found if dep.host.partition(":")[0] == host_name]
    web = [dep for dep in on_host if dep.web]
    host_source = web[0] if web else on_host[0]
    answers["github_host"] = Answer(host_source.host, host_source.url)
    if not web:
        notes.append(
            f"github_host comes from an SSH URL, which does not carry the web port: if "
            f"{shown(host_name)}'s web address has one, pass --data github_host=HOST:PORT."
        )
    org = most_common(dep.org for dep in on_host)
    answers["github_org"] = Answer(org, f"{sum(dep.org == org for dep in on_host)} of {len(found)} git dependencies")

    entries = []
    for dep in found:
        label = f"{dep.where} {shown(dep.name)}"
        if dep not in on_host:
            reason = f"is on {shown(dep.host)}, not {shown(host_name)}"
        elif not dep.ref:
            reason = "pins no tag, branch or rev (the template needs one; give it with --data private_dependencies=...)"
        elif not (ORG_SHAPE.match(dep.org) and REPO_SHAPE.match(dep.repo) and REF_SHAPE.match(dep.ref)):
            reason = f"cannot be written as [org/]repo@ref: {shown(dep.org + '/' + dep.repo + '@' + dep.ref)}"
        else:
            entries.append(f"{dep.repo}@{dep.ref}" if dep.org == org else f"{dep.org}/{dep.repo}@{dep.ref}")
            inference.dependencies.append(dep)
            if normalized(dep.name) != normalized(dep.repo):
                notes.append(
                    f"{label} comes from repository {shown(dep.repo)}: the template names each private "
                    f"dependency after its repository; rename it if the package is called {shown(dep.name)}."
                )
            continue
        notes.append(f"{label} {reason}: left out of private_dependencies; carry it over by hand.")
        inference.left_out.append(dep.name)
    where = sorted({dep.where for dep in inference.dependencies}) or ["pyproject.toml"]
    answers["private_dependencies"] = Answer(", ".join(entries), ", ".join(where))


def normalized(name: str) -> str:
    """PEP 503: the form under which two distribution names are the same."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_lower_bound(constraint: str) -> tuple[int, int] | None:
    """The lowest (major, minor) a Poetry or PEP 440 range allows, or None when it has no floor."""
    lowest: tuple[int, int] | None = None
    for alternative in re.split(r"\|\|?", constraint):
        floor: tuple[int, int] | None = None
        # ">= 3.10, <4" -> [">=3.10", "<4"]: an operator keeps its version, whatever the spacing.
        for part in re.split(r"[,\s]+", re.sub(r"(?<=[<>=!~^])\s+", "", alternative).strip()):
            match = PYTHON_BOUND.match(part)
            if not match or match["op"] in ("<", "<=", "!="):
                continue
            bound = (int(match["major"]), int(match["minor"]) if match["minor"] not in (None, "*") else 0)
            floor = bound if floor is None else max(floor, bound)
        if floor is None:
            return None  # one alternative without a floor: the range has none
        lowest = floor if lowest is None else min(lowest, floor)
    return lowest


def infer_python(constraint: Any, source: str, inference: Inference) -> None:
    if not isinstance(constraint, str):
        inference.notes.append("No Python range in pyproject.toml: python_version takes the template's default.")
        return
    bound = python_lower_bound(constraint)
    oldest = SUPPORTED_PYTHONS[0]
    where = f"{source} = {shown(constraint)}"
    if bound is None:
        inference.notes.append(f"{where} has no lower bound: python_version takes the template's default.")
        return
    wanted = f"{bound[0]}.{bound[1]}"
    if bound < tuple(map(int, oldest.split("."))):
        inference.answers["python_version"] = Answer(oldest, where)
        inference.notes.append(
            f"python_version: {where} allows Python {wanted}, older than the template supports; raised to "
            f"{oldest}, the oldest it supports (the project will require Python >= {oldest})."
        )
    elif wanted in SUPPORTED_PYTHONS:
        inference.answers["python_version"] = Answer(wanted, where)
    else:
        raise Refused(
            f"{where} starts at Python {wanted}; the template supports {', '.join(SUPPORTED_PYTHONS)}. "
            "Pass --data python_version=VERSION with one of them."
        )


def infer(text: str, package_dirs: Iterable[str] = ()) -> Inference:
    """The answers a pyproject.toml gives, each with its source. `package_dirs` are the
    repository's package directories (`src/name` or a top-level `name`), for a project whose
    pyproject.toml names none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Refused(f"pyproject.toml is not valid TOML: {error}") from None
    inference = Inference()
    answers, notes = inference.answers, inference.notes
    project, poetry = table(data, "project"), table(data, "tool", "poetry")

    def text_field(key: str) -> tuple[str, str] | None:
        for section, name in ((project, "[project]"), (poetry, "[tool.poetry]")):
            if key in section:
                if isinstance(section[key], str):
                    return section[key], f"{name} {key}"
                notes.append(f"{name} {key} is not text: left to the template's default.")
        return None

    name = text_field("name")
    if name:
        answers["project_name"] = Answer(name[0], name[1])
        slug = normalized(name[0])
        answers["project_slug"] = Answer(slug, name[1] if slug == name[0] else f"{name[1]}, normalized (PEP 503)")
    else:
        notes.append("No project name in pyproject.toml: pass --data project_name=... (else the template's default).")

    description = text_field("description")
    if description:
        answers["description"] = Answer(*description)

    infer_author(project, poetry, inference)
    infer_package(poetry, sorted(package_dirs), inference)

    if "requires-python" in project:
        infer_python(project["requires-python"], "[project] requires-python", inference)
    else:
        infer_python(table(poetry, "dependencies").get("python"), "[tool.poetry.dependencies] python", inference)

    found = poetry_git_dependencies(table(poetry, "dependencies"), "[tool.poetry.dependencies]", notes)
    requirements = project.get("dependencies")
    if isinstance(requirements, list):
        found += pep508_git_dependencies(requirements, "[project] dependencies", notes)
    infer_private_dependencies(found, inference)

    for group, where in dev_groups(poetry):
        for dep in poetry_git_dependencies(group, where, []):
            notes.append(
                f"{where} {shown(dep.name)} is a git dependency of a development group: the template's "
                "private_dependencies are runtime ones; keep it in that group by hand."
            )
            inference.left_out.append(dep.name)
    return inference


def dev_groups(poetry: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    groups = [(table(poetry, "dev-dependencies"), "[tool.poetry.dev-dependencies]")]
    for group in table(poetry, "group"):
        groups.append((table(poetry, "group", group, "dependencies"), f"[tool.poetry.group.{group}.dependencies]"))
    return groups


def infer_author(project: dict[str, Any], poetry: dict[str, Any], inference: Inference) -> None:
    authors = project.get("authors", poetry.get("authors"))
    where = "[project] authors[0]" if "authors" in project else "[tool.poetry] authors[0]"
    first = authors[0] if isinstance(authors, list) and authors else None
    name = email = None
    if isinstance(first, dict):
        name, email = first.get("name"), first.get("email")
    elif isinstance(first, str):
        match = AUTHOR.match(first)
        name, email = (match["name"], match["email"]) if match else (first, None)
    elif authors is not None:
        inference.notes.append(f"{where.removesuffix('[0]')} is not a list of authors: left to the defaults.")
    if isinstance(name, str) and name.strip():
        inference.answers["author_name"] = Answer(name.strip(), where)
    if isinstance(email, str) and email.strip():
        inference.answers["author_email"] = Answer(email.strip(), where)
    if "author_name" not in inference.answers or "author_email" not in inference.answers:
        inference.notes.append("No author name or email found: pass --data author_name=... author_email=...")


def infer_package(poetry: dict[str, Any], package_dirs: list[str], inference: Inference) -> None:
    packages = poetry.get("packages")
    for index, entry in enumerate(packages if isinstance(packages, list) else []):
        include = entry.get("include") if isinstance(entry, dict) else None
        if isinstance(include, str) and IDENTIFIER.match(include):
            inference.answers["package_name"] = Answer(include, f"[tool.poetry] packages[{index}].include")
            if entry.get("from") != "src":
                inference.notes.append(
                    f"{shown(include)} is not under src/: the template's layout is src/{include}/; move it there."
                )
            return
    # The src layout first, then packages at the top (which move under src/).
    found = [path for path in package_dirs if path.startswith("src/")] or package_dirs
    if found:
        chosen = found[0].removeprefix("src/")
        inference.answers["package_name"] = Answer(chosen, f"{found[0]}/__init__.py")
        if len(found) > 1:
            inference.notes.append(f"Several packages: took {shown(chosen)}; the template has one.")
        return
    slug = inference.answers.get("project_slug")
    if slug:
        inference.answers["package_name"] = Answer(
            slug.value.replace("-", "_"), "project_slug, as the template derives it"
        )


# ----------------------------------------------------------------------------- git


def git(repository: Path, *arguments: str, check: bool = True, **options: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True, **options)
    if check and result.returncode != 0:
        raise Refused(f"git {arguments[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def check_repository(repository: Path) -> tuple[str, list[str]]:
    """(the branch or commit checked out, every file of HEAD), or Refused with what to do."""
    if not repository.is_dir():
        raise Refused(f"{repository} is not a directory.")
    top = git(repository, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != repository.resolve():
        raise Refused(f"{repository} is not the top of a git repository.")
    if git(repository, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0:
        raise Refused("The repository has no commit yet: commit its files first.")
    if git(repository, "status", "--porcelain", "--untracked-files=normal").stdout.strip():
        raise Refused("The working tree has changes: commit or stash them first (git status lists them).")
    for state in ("MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD"):
        if git(repository, "rev-parse", "--verify", "--quiet", state, check=False).returncode == 0:
            raise Refused(f"A {state.split('_')[0].lower()} is in progress: finish or abort it first.")
    if git(repository, "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}", check=False).returncode == 0:
        raise Refused(f"A branch {BRANCH} exists already: delete it (git branch -D {BRANCH}) or finish it.")
    files = git(repository, "ls-tree", "-r", "-z", "--name-only", "HEAD").stdout.split("\0")
    files = [name for name in files if name]
    if ".copier-answers.yml" in files:
        raise Refused("The repository has .copier-answers.yml: it takes updates with copier update already.")
    if "pyproject.toml" not in files:
        raise Refused("The repository has no pyproject.toml at its top: this tool reads the answers from it.")
    current = git(repository, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    return current or git(repository, "rev-parse", "HEAD").stdout.strip(), files


def commit_rendered_tree(repository: Path, rendered: Path, index: Path, message: str) -> str:
    """The rendered files as one commit without a parent, written to the repository's object
    store through a temporary index: the working tree and branches are not touched."""
    git_dir = git(repository, "rev-parse", "--absolute-git-dir").stdout.strip()
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    # --force: every rendered file, whatever the repository's ignore rules say.
    base = ["--git-dir", git_dir, "--work-tree", str(rendered)]
    git(rendered, *base, "add", "--all", "--force", "--", ".", env=env)
    tree = git(rendered, *base, "write-tree", env=env).stdout.strip()
    return git(repository, "commit-tree", tree, "-m", message).stdout.strip()


# ----------------------------------------------------------------------------- copier


def render(copier: str, template: str, ref: str, answers: dict[str, str], workdir: Path) -> Path:
    """The template rendered with these answers; Rejected names the answer copier refused."""
    data = workdir / "answers.yml"
    data.write_text("".join(f"{key}: {yaml_string(value)}\n" for key, value in answers.items()), encoding="utf-8")
    rendered = workdir / "rendered"
    command = [copier, "copy", "--defaults", "--quiet", "--data-file", str(data), "--vcs-ref", ref, template]
    result = subprocess.run([*command, str(rendered)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode == 0:
        return rendered
    rejected = re.search(
        r"^\w*Error: (?:Validation error for question|Invalid choice for) '([a-z_]+)': (.*)$",
        result.stderr,
        re.M,
    )
    if rejected:
        raise Rejected(rejected[1], rejected[2])
    tail = "\n".join(result.stderr.strip().splitlines()[-5:])
    raise Refused(f"copier could not render {template} at {ref}:\n{tail}")


def recorded_questions(rendered: Path) -> set[str]:
    answers = (rendered / ".copier-answers.yml").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z_][a-z0-9_]*):", answers, re.M))


# ----------------------------------------------------------------------------- what a person does


@dataclass
class Report:
    package: str
    added: list[str]
    conflicted: list[str]
    legacy_workflows: list[tuple[str, str]]
    pyproject_carry: list[tuple[str, str]]
    pyproject_leave: list[tuple[str, str]]
    other: list[str]


def conflict_advice(path: str, package: str) -> list[str]:
    quoted = shlex.quote(path)
    if path == "pyproject.toml":
        return [
            "take the template's, then carry yours over as listed below:",
            "git checkout --theirs -- pyproject.toml",
        ]
    if path == "README.md":
        return [
            "take the template's (it has the setup steps), then add your own text back from git show HEAD:README.md:",
            "git checkout --theirs -- README.md",
        ]
    if path.startswith((f"src/{package}/", "tests/")):
        return ["keep yours:", f"git checkout --ours -- {quoted}"]
    if path.startswith(".github/"):
        return ["take the template's (template updates change it):", f"git checkout --theirs -- {quoted}"]
    return ["keep the lines each side needs and delete the conflict markers (edit the file)"]


def workflow_advice(text: str) -> str:
    if INSTALLS.search(text):
        advice = "replaced by the template's ci.yml: delete it"
    else:
        advice = "review it: keep it only if it does something ci.yml does not (deploys, for example)"
    if CREDENTIAL_ON_DISK.search(text):
        advice += "; it hands the token to git on disk or in a URL, which the template's setup never does"
    return advice


def pyproject_guidance(
    data: dict[str, Any], rendered: dict[str, Any], inference: Inference
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(lines to carry into the template's pyproject.toml as (table, line)), (what to leave out, why))."""
    carry: list[tuple[str, str]] = []
    leave: list[tuple[str, str]] = []

    def keep(target: str, name: str, value: Any) -> None:
        line = f"{toml_key(name)} = {toml_value(value)}"
        if CREDENTIAL_URL.search(line):
            leave.append((name, "its URL holds a credential (not shown): carry it over by hand without it"))
        else:
            carry.append((target, line))

    project, poetry = table(data, "project"), table(data, "tool", "poetry")
    new_project = table(rendered, "project")
    private = {dep.name for dep in inference.dependencies}

    version = project.get("version", poetry.get("version"))
    if isinstance(version, str) and version != new_project.get("version"):
        carry.append(("[project]", f"version = {toml_value(version)}"))

    # [project] metadata the template's file does not write, as it is (name, description and
    # authors are answers; dependencies are rewritten below).
    for key, value in project.items():
        if key in ("name", "version", "description", "authors", "requires-python", "dependencies", "dynamic"):
            continue
        if key in ("license", "license-files"):
            leave.append((f"[project] {key}", "the template's license answer decides it (--data license=MIT)"))
        elif key == "readme" and value == new_project.get("readme"):
            continue
        elif isinstance(value, dict):
            for name, item in value.items():
                keep(f"[project.{key}]", name, item)
        else:
            keep("[project]", key, value)
    # Poetry 1 metadata, in its PEP 621 place.
    for key, target in (("homepage", "Homepage"), ("repository", "Repository"), ("documentation", "Documentation")):
        if key in poetry:
            keep("[project.urls]", target, poetry[key])
    for key in ("keywords", "classifiers"):
        if key in poetry:
            keep("[project]", key, poetry[key])
    maintainers = poetry.get("maintainers")
    if isinstance(maintainers, list):
        people = [AUTHOR.match(item) for item in maintainers if isinstance(item, str)]
        keep("[project]", "maintainers", [{"name": m["name"], "email": m["email"]} for m in people if m])
    if "license" in poetry:
        leave.append(("[tool.poetry] license", "the template's license answer decides it (--data license=MIT)"))
    for key, target in (
        ("scripts", "[project.scripts]"),
        ("extras", "[project.optional-dependencies]"),
        ("urls", "[project.urls]"),
        ("plugins", "[project.entry-points]"),
    ):
        for name, value in table(poetry, key).items():
            keep(target, name, value)
    for key in ("include", "exclude"):
        if key in poetry:
            keep("[tool.poetry]", key, poetry[key])
    if "packages" in poetry and poetry["packages"] != table(rendered, "tool", "poetry").get("packages"):
        leave.append(("[tool.poetry] packages", "the template's packages line names src/<package_name>; adjust it"))

    requires = toml_value(table(rendered, "project").get("requires-python", ""))
    for name, spec in table(poetry, "dependencies").items():
        if name == "python":
            leave.append((f"python = {toml_value(spec)}", f"[project] requires-python = {requires} replaces it"))
        elif name in private:
            leave.append((name, "the template's https line replaces it"))
        elif name not in inference.left_out:
            keep("[tool.poetry.dependencies]", name, spec)
    pep508 = project.get("dependencies")
    for requirement in pep508 if isinstance(pep508, list) else []:
        if not isinstance(requirement, str):
            continue
        direct, simple = PEP508_DIRECT.match(requirement), PEP508_SIMPLE.match(requirement)
        if direct and direct["name"] in private:
            leave.append((direct["name"], "the template's https line replaces it"))
        elif simple:
            keep("[tool.poetry.dependencies]", simple["name"], simple["spec"].strip() or "*")
        else:
            leave.append((requirement, "write it in [tool.poetry.dependencies] by hand (dynamic dependencies)"))

    template_dev = table(rendered, "tool", "poetry", "group", "dev", "dependencies")
    for group, where in dev_groups(poetry):
        target = (
            "[tool.poetry.group.dev.dependencies]"
            if where.endswith((".dev-dependencies]", ".dev.dependencies]"))
            else where
        )
        for name, spec in group.items():
            if name in inference.left_out:
                continue
            if target.endswith(".dev.dependencies]") and normalized(name) in map(normalized, template_dev):
                leave.append((f"{name} (dev)", "the template's dev group has it"))
            elif normalized(name) in REPLACED_BY_RUFF or name.startswith("flake8-"):
                leave.append((f"{name} (dev)", "ruff replaces it"))
            else:
                keep(target, name, spec)
    if "dev-dependencies" in poetry:
        leave.append(("[tool.poetry.dev-dependencies]", "Poetry 1's name for the dev group"))

    for name in table(data, "tool"):
        if name == "poetry":
            continue
        if name in REPLACED_BY_RUFF:
            leave.append((f"[tool.{name}]", "ruff replaces it; its settings are in [tool.ruff]"))
        elif name in table(rendered, "tool"):
            leave.append((f"[tool.{name}]", f"merge your settings into the template's [tool.{name}] by hand"))
        else:
            leave.append((f"[tool.{name}]", "copy the whole table over if you still use it"))
    return carry, leave


def build_report(
    repository: Path, rendered: Path, files_before: list[str], inference: Inference, answers: dict[str, str]
) -> Report:
    package = answers.get("package_name", "")
    rendered_files = {path.relative_to(rendered).as_posix() for path in rendered.rglob("*") if path.is_file()}
    conflicted = git(repository, "diff", "--name-only", "-z", "--diff-filter=U").stdout.split("\0")
    conflicted = sorted(name for name in conflicted if name)
    added = sorted(rendered_files - set(files_before))
    legacy = []
    for name in files_before:
        parent, _, base = name.rpartition("/")
        if parent == ".github/workflows" and base.endswith((".yml", ".yaml")) and base not in TEMPLATE_WORKFLOWS:
            legacy.append((name, workflow_advice(git(repository, "show", f"HEAD:{name}").stdout)))
    data = tomllib.loads(git(repository, "show", "HEAD:pyproject.toml").stdout)
    new = tomllib.loads((rendered / "pyproject.toml").read_text(encoding="utf-8"))
    carry, leave = pyproject_guidance(data, new, inference)
    other = []
    starter_test = f"tests/test_{package}.py"
    if f"src/{package}/__init__.py" in conflicted and starter_test in added:
        other.append(
            f"{starter_test} is the template's starter test of its greeting(), which your module does not "
            "have: replace it with tests of your own code (the template's coverage gate is 100%)."
        )
    if package and f"{package}/__init__.py" in files_before:
        other.append(
            f"Your package is at {package}/; the template's layout is src/{package}/: move your files there "
            f"(git mv), replacing the template's starter src/{package}/__init__.py."
        )
    return Report(package, added, conflicted, legacy, carry, leave, other)


def print_answers(inference: Inference, overrides: dict[str, str]) -> None:
    say("Answers inferred from pyproject.toml:")
    for name, answer in inference.answers.items():
        mark = "  (overridden by --data)" if name in overrides else ""
        say(f"  {name:<22} {shown(answer.value):<24} from {answer.source}{mark}")
    for name, value in overrides.items():
        if name not in inference.answers:
            say(f"  {name:<22} {shown(value):<24} from --data")
    say("  Every other question takes the template's default (.copier-answers.yml lists them all).")
    if inference.notes:
        say("Notes:")
        for note in inference.notes:
            say(f"  - {note}")


def print_report(report: Report, repository: Path, template: str, ref: str) -> None:
    say(f"\nMerged the template {template} at {ref} into the new branch {BRANCH} of {repository}.")
    say("The merge is not committed yet: the steps below finish it.\n")
    say("Done by this tool:")
    say("  - the answers above, checked by the template's own validators, recorded in .copier-answers.yml")
    say(f"  - {len(report.added)} files added from the template with no clash:")
    for name in report.added:
        say(f"      {name}")
    say("  - every other file of your repository kept as it is\n")
    say("To do by hand (docs/adopting.md explains each step):")
    step = 0
    if report.conflicted:
        step += 1
        say(f"  {step}. Resolve each file both sides have (git shows both versions between <<<<<<< and >>>>>>>):")
        for name in report.conflicted:
            advice = conflict_advice(name, report.package)
            say(f"     {name}: {advice[0]}")
            for command in advice[1:]:
                say(f"         {command}")
        say("     then mark each resolved: git add -- FILE")
    if report.legacy_workflows:
        step += 1
        say(f"  {step}. Legacy workflows (the template's .github/workflows/ci.yml lints, type-checks and tests):")
        for name, advice in report.legacy_workflows:
            say(f"     {name}: {advice}")
            if advice.startswith("replaced"):
                say(f"         git rm -q -- {shlex.quote(name)}")
    if report.pyproject_carry or report.pyproject_leave:
        step += 1
        say(
            f"  {step}. pyproject.toml: into the template's version, carry over from yours"
            " (git show HEAD:pyproject.toml):"
        )
        for target, line in report.pyproject_carry:
            say(f"     under {target}: {line}")
        for what, why in report.pyproject_leave:
            say(f"     leave out {what}: {why}")
    for note in report.other:
        step += 1
        say(f"  {step}. {note}")
    step += 1
    say(f"  {step}. Lock and check, with access to the private repositories (README.md, 'Getting access'):")
    say("         poetry lock")
    say("         poetry install")
    say("         poetry run ruff check . && poetry run ruff format --check . && poetry run mypy && poetry run pytest")
    step += 1
    say(f"  {step}. Commit the merge, push the branch and open a pull request:")
    say("         git add -A && git commit --no-edit")
    say(f"         git push -u origin {BRANCH}")
    say("     CI needs the organization's setup in README.md, 'How CI gets access', before it can go green.")
    say("From then on the repository takes template updates like any generated one: copier update, or Renovate.")


# ----------------------------------------------------------------------------- main


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not QUESTION.match(key):
            raise Refused(f"--data takes question=value (a question's name in lower case): got {shown(pair)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Refused(f"--data {key}: the value is not valid text") from None
        overrides[key] = value
    return overrides


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Bring a repository under the project template (docs/adopting.md).",
        epilog="Example: adopt.py --template https://github.com/acme/python-template.git --ref v1.2.0 .",
    )
    parser.add_argument("--template", required=True, help="the template repository's https URL")
    parser.add_argument("--ref", required=True, help="the template release to adopt: a tag vX.Y.Z")
    parser.add_argument(
        "--data", action="append", default=[], metavar="QUESTION=VALUE", help="an answer, over the inferred one"
    )
    parser.add_argument("repository", type=Path, help="the repository to adopt (its top directory)")
    return parser.parse_args(argv)


def adopt(args: argparse.Namespace) -> int:
    if not TEMPLATE_URL.match(args.template):
        raise Refused(
            f"--template must be the template's https URL without credentials, like "
            f"https://github.com/your-org/python-template.git (got {shown(args.template)}): "
            "copier records it, and Renovate and copier update read it back."
        )
    if not RELEASE_TAG.match(args.ref):
        raise Refused(f"--ref must be a release tag vMAJOR.MINOR.PATCH (got {shown(args.ref)}).")
    overrides = parse_overrides(args.data)
    copier = shutil.which("copier")
    if not copier:
        raise Refused("copier is not on PATH: install it as README.md says (pipx install copier).")
    repository = args.repository.resolve()
    original, files = check_repository(repository)

    package_dirs = {
        name.removesuffix("/__init__.py")
        for name in files
        if re.fullmatch(r"(?:src/)?[A-Za-z_][A-Za-z0-9_]*/__init__\.py", name)
        and name.split("/")[0] not in ("tests", "test", "scripts", "docs")
    }
    inference = infer((repository / "pyproject.toml").read_text(encoding="utf-8"), package_dirs)
    print_answers(inference, overrides)
    answers = {name: answer.value for name, answer in inference.answers.items()} | overrides

    with tempfile.TemporaryDirectory(prefix="adopt-") as workdir:
        print(f"\nRendering {args.template} at {args.ref} with copier ...", flush=True)
        try:
            rendered = render(copier, args.template, args.ref, answers, Path(workdir))
        except Rejected as rejected:
            name = rejected.question
            source = "--data" if name in overrides else inference.answers.get(name, Answer("", "")).source
            value = f" = {shown(answers[name])}" if name in answers else ""
            origin = f" (from {source})" if source else " (the template's default)"
            raise Refused(
                f"The template rejected the answer {name}{value}{origin}: {rejected.reason}.\n"
                f"Pass a correction and run again: --data {name}=VALUE"
            ) from None
        # copier ignores data for a question it does not have, and records no answer to one that
        # these answers skip (`when`): either way the person should know.
        unused = sorted(set(overrides) - recorded_questions(rendered))
        in_the_way = [
            name
            for name in sorted(p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file())
            if name not in files and (repository / name).exists()
        ]
        if in_the_way:
            raise Refused(
                "Untracked or ignored files stand where the template writes: move them away first: "
                + ", ".join(map(shown, in_the_way))
            )

        template_commit = commit_rendered_tree(
            repository,
            rendered,
            Path(workdir) / "index",
            f"Project template {args.ref}, rendered for this repository\n\nFrom {args.template} with the answers "
            "in .copier-answers.yml (scripts/adopt.py).",
        )
        git(repository, "switch", "--quiet", "-c", BRANCH)
        merged = git(
            repository,
            "merge",
            "--no-ff",
            "--no-commit",
            "--allow-unrelated-histories",
            "-m",
            f"Adopt the project template {args.ref}",
            template_commit,
            check=False,
        )
        in_progress = git(repository, "rev-parse", "--verify", "--quiet", "MERGE_HEAD", check=False).returncode == 0
        if not in_progress:
            detached = re.fullmatch(r"[0-9a-f]{40,64}", original)
            git(repository, "switch", "--quiet", *(["--detach", original] if detached else [original]))
            git(repository, "branch", "-D", BRANCH)
            raise Refused(f"git merge failed, and was undone:\n{merged.stdout}{merged.stderr}")
        report = build_report(repository, rendered, files, inference, answers)
    print_report(report, repository, args.template, args.ref)
    for name in unused:
        say(f"Note: --data {name} is not in .copier-answers.yml: the template at {args.ref} has no such question,")
        say("      or does not ask it with these answers.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    try:
        return adopt(args)
    except Refused as refusal:
        print(safe(f"\nadopt: {refusal}\nNothing in the repository was changed."), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The one place for the template's questions, validation rules and derived values.

Both engines use this module: cookiecutter loads it as a local Jinja extension and its
pre-generation hook calls `validate`; copier loads the same extension through
copier-template-extensions and calls `answer_error` from each question's validator.
`scripts/write_question_files.py` writes cookiecutter.json and copier.yml from QUESTIONS.

Standard library and Jinja only: it runs inside whichever engine the user installed.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2.ext import Extension

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
GIT_AUTH_MODES = ("token", "github-app", "ssh", "poetry-http-basic")
UPDATE_BOTS = ("renovate", "dependabot", "none")
LICENSES = ("Proprietary", "MIT")


@dataclass(frozen=True)
class Question:
    name: str
    default: Any
    help: str
    example: str = ""
    choices: tuple[str, ...] = ()
    # A derived default: (question it is derived from, Jinja filter that derives it).
    derived_from: tuple[str, str] | None = None


QUESTIONS = (
    Question("project_name", "Example Service", "Human-readable project name", "Billing Service"),
    Question(
        "project_slug",
        None,
        "Repository and distribution name",
        "billing-service",
        derived_from=("project_name", "slug_of"),
    ),
    Question(
        "package_name",
        None,
        "Python import name",
        "billing_service",
        derived_from=("project_slug", "package_of"),
    ),
    Question(
        "description", "A Python service of the example organization.", "One-line description", "Computes invoices."
    ),
    Question("author_name", "Example Team", "Author or owning team", "Platform Team"),
    Question("author_email", "team@example.com", "Contact email", "platform@example.com"),
    Question(
        "github_host",
        "github.com",
        "GitHub host: github.com or a GitHub Enterprise Server host[:port]",
        "github.example.com",
    ),
    Question("github_org", "example-org", "GitHub organization that owns the private repositories", "acme-corp"),
    Question(
        "private_dependencies",
        "example-core@v1.2.0, example-utils@v0.3.1",
        "Private repositories to depend on: [org/]repo@ref, comma-separated (ref: tag, branch or commit); may be empty",
        "core-lib@v1.2.0, other-org/tools@main",
    ),
    Question("git_auth", "token", "How CI reaches the private repositories", "token", choices=GIT_AUTH_MODES),
    Question(
        "token_secret_name",
        "POETRY_GIT_TOKEN",
        "Org secret holding the read token (token and poetry-http-basic modes; also the Dependabot secret)",
        "ORG_READ_TOKEN",
    ),
    Question(
        "python_version",
        "3.11",
        "Lowest supported Python; CI tests it and every newer one",
        "3.12",
        choices=SUPPORTED_PYTHONS,
    ),
    Question("poetry_version", "2.5.1", "Poetry version that CI and the docs pin", "2.5.1"),
    Question(
        "package_index_url",
        "",
        "Internal PyPI mirror (simple API) used as Poetry's primary source; empty for PyPI",
        "https://nexus.example.com/repository/pypi/simple",
    ),
    Question("package_index_credentials", False, "Does the package index need credentials in CI?", "false"),
    Question("license", "Proprietary", "License of the generated project", "MIT", choices=LICENSES),
    Question("release_workflow", True, "Add a workflow that publishes a GitHub release on v* tags?", "true"),
    Question("update_bot", "renovate", "Bot that keeps dependency pins fresh", "renovate", choices=UPDATE_BOTS),
    Question(
        "template_update_workflow", False, "Add a scheduled workflow that opens template-update pull requests?", "false"
    ),
)

QUESTION_NAMES = tuple(q.name for q in QUESTIONS)
EXAMPLES = {q.name: q.example for q in QUESTIONS}


# --- derived values -------------------------------------------------------------------


def slug_of(name: str) -> str:
    """'Billing Service!' -> 'billing-service' (accents folded, other characters dropped)."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def package_of(slug: str) -> str:
    return str(slug).replace("-", "_")


def normalized_name(name: str) -> str:
    """PEP 503: the form under which two package names are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PrivateDependency:
    org: str
    repo: str
    ref: str
    host: str

    @property
    def name(self) -> str:
        """Distribution name: the repository name, PEP 503-normalized."""
        return normalized_name(self.repo)

    @property
    def url(self) -> str:
        return f"https://{self.host}/{self.org}/{self.repo}.git"

    @property
    def ref_kind(self) -> str:
        """Poetry's key for the ref: commits are `rev`, version-like refs `tag`, others `branch`."""
        if COMMIT_RE.fullmatch(self.ref):
            return "rev"
        if VERSION_TAG_RE.fullmatch(self.ref):
            return "tag"
        return "branch"


def parse_private_dependencies(text: str, default_org: str, host: str) -> list[PrivateDependency]:
    """Parse valid input (see `private_dependencies_error`) into dependencies."""
    deps = []
    for entry in _entries(text):
        path, _, ref = entry.partition("@")
        org, _, repo = path.rpartition("/")
        deps.append(PrivateDependency(org or default_org, repo, ref, host))
    return deps


def poetry_repository_names(deps: list[PrivateDependency]) -> list[str]:
    """Names for POETRY_REPOSITORIES_<N>_URL: Poetry ignores names with digits, so letters only."""
    names = []
    for index in range(len(deps)):
        suffix = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            suffix = chr(ord("A") + rest) + suffix
        names.append(f"PRIVATE_{suffix}")
    return names


def host_without_port(host: str) -> str:
    return str(host).split(":", 1)[0]


# --- validation -----------------------------------------------------------------------
# Each rule returns None for a good value, or a reason saying what is wrong and what is
# allowed; `answer_error` adds the question, the value and an example of a good value.

COMMIT_RE = re.compile(r"[0-9a-f]{7,40}")
# One alphanumeric per repetition, so a long near-miss cannot backtrack exponentially.
VERSION_TAG_RE = re.compile(r"v?\d[A-Za-z0-9]*([-.][A-Za-z0-9]+)*")
SLUG_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE_RE = re.compile(r"_*[a-z][a-z0-9_]*")
ORG_RE = re.compile(r"[A-Za-z0-9](-?[A-Za-z0-9])*")
REPO_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
HOST_LABEL_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
PORT_RE = re.compile(r"[1-9][0-9]{0,4}")
EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*")
SECRET_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
POETRY_VERSION_RE = re.compile(r"2\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
FORBIDDEN_REF_CHARS = set(" ~^:?*[\\")
# Modules of some supported Python that the Python running the template may lack (added in
# 3.14, removed in 3.12 and 3.13): a package of that name would shadow them there.
OTHER_STDLIB_MODULES = frozenset(
    "annotationlib compression asynchat asyncore distutils imp smtpd aifc audioop cgi cgitb chunk "
    "crypt imghdr lib2to3 mailcap msilib nis nntplib ossaudiodev pipes sndhdr spwd sunau telnetlib "
    "uu xdrlib".split()
)


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in str(text).split(",") if entry.strip()]


def _free_text_error(value: str, *, required: bool = True) -> str | None:
    if required and not value.strip():
        return "it is empty; write some text"
    bad = [ch for ch in value if not ch.isprintable()]
    if bad:
        return f"it contains the non-printable character {bad[0]!r}; use printable characters on one line"
    return None


def _slug_error(value: str) -> str | None:
    if len(value) > 100:
        return "it is longer than 100 characters"
    if not SLUG_RE.fullmatch(value):
        return "use lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen"
    return None


def _package_error(value: str) -> str | None:
    if not PACKAGE_RE.fullmatch(value):
        return "use lowercase letters, digits and underscores, starting with a letter or underscore"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return "it is a Python keyword; choose a name that is not one"
    if value in sys.stdlib_module_names or value in OTHER_STDLIB_MODULES:
        return "it would shadow the standard-library module of that name; choose another name"
    return None


def _host_name_error(host: str) -> str | None:
    labels = host.split(".")
    if len(host) > 253 or not all(len(label) <= 63 and HOST_LABEL_RE.fullmatch(label) for label in labels):
        return "dot-separated labels of letters, digits and inner hyphens"
    return None


def _email_error(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    if (
        not at
        or len(value) > 254
        or not EMAIL_LOCAL_RE.fullmatch(local)
        or "." not in domain
        or _host_name_error(domain)
        or not domain.rsplit(".", 1)[1].isalpha()
    ):
        return "write one address like name@example.com (letters, digits and . _ % + - before the @)"
    return None


def _host_error(value: str) -> str | None:
    if "://" in value or "/" in value or "@" in value:
        return "give only the host name (and :port), without scheme, path or credentials"
    host, colon, port = value.partition(":")
    if colon and not PORT_RE.fullmatch(port) or colon and int(port) > 65535:
        return "the port after ':' must be a number from 1 to 65535"
    if _host_name_error(host):
        return f"it is not a host name: use {_host_name_error(host)}, optionally followed by :port"
    return None


def _org_error(value: str) -> str | None:
    if len(value) > 39 or not ORG_RE.fullmatch(value):
        return "GitHub organization names have up to 39 letters, digits and single hyphens, not at either end"
    return None


def _repo_error(value: str) -> str | None:
    if len(value) > 100 or not REPO_RE.fullmatch(value) or ".." in value or value.lower().endswith(".git"):
        return (
            "GitHub repository names have up to 100 letters, digits, '.', '-' and '_', "
            "start and end with a letter or digit, and carry no '..' or '.git' suffix"
        )
    return None


def _ref_error(ref: str) -> str | None:
    """git check-ref-format's rules for one ref name, plus git's ban on a leading '-' for
    branch and tag names (a commit hash passes them too)."""
    if not ref:
        return "the ref after '@' is empty; give a tag, branch or commit hash"
    reasons = [
        (
            any(ord(ch) < 32 or ord(ch) == 127 or ch in FORBIDDEN_REF_CHARS for ch in ref),
            "it contains a space, a control character or one of ~ ^ : ? * [ \\",
        ),
        (".." in ref or "@{" in ref or ref == "@", "it contains '..' or '@{', or is '@'"),
        (ref.startswith("-"), "it starts with '-'"),
        (ref.startswith("/") or ref.endswith("/") or "//" in ref, "it has an empty '/'-separated part"),
        (
            ref.endswith(".") or any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")),
            "a '/'-separated part starts with '.' or ends with '.lock', or the ref ends with '.'",
        ),
    ]
    for failed, reason in reasons:
        if failed:
            return f"the ref {ref!r} is not a valid git tag, branch or commit: {reason}"
    return None


def private_dependencies_error(value: str) -> str | None:
    seen: dict[str, str] = {}
    for entry in _entries(value):
        path, at, ref = entry.partition("@")
        if not at:
            return f"entry {entry!r} has no '@ref'; write [org/]repo@ref"
        org, slash, repo = path.rpartition("/")
        problem = (
            (slash and (_org_error(org) and f"the organization {org!r} is not valid: {_org_error(org)}"))
            or (_repo_error(repo) and f"the repository {repo!r} is not valid: {_repo_error(repo)}")
            or _ref_error(ref)
        )
        if problem:
            return f"entry {entry!r}: {problem}; write [org/]repo@ref"
        key = normalized_name(repo)
        if key in seen:
            return f"entries {seen[key]!r} and {entry!r} name the same package {key!r}; keep one"
        seen[key] = entry
    return None


def _secret_error(value: str) -> str | None:
    if not SECRET_RE.fullmatch(value):
        return "secret names have only letters, digits and underscores and do not start with a digit"
    if value.upper().startswith("GITHUB_"):
        return "secret names must not start with GITHUB_, which GitHub reserves"
    return None


def _choice_error(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    return lambda value: None if value in choices else f"choose one of: {', '.join(choices)}"


def _poetry_version_error(value: str) -> str | None:
    if not POETRY_VERSION_RE.fullmatch(value):
        return "this template supports Poetry 2 releases (2.0.0 up to, not including, 3.0.0), written as 2.MINOR.PATCH"
    return None


def _index_url_error(value: str) -> str | None:
    if not value:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "it must be a plain https:// URL without spaces"
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return "it must be a plain https:// URL"
    if parts.scheme != "https" or not hostname:
        return "it must be an https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "it must not contain credentials; CI passes them from secrets"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return "it must be a plain https:// URL without query or fragment"
    return None


def _bool_error(value: Any) -> str | None:
    return None if isinstance(value, bool) or str(value).lower() in BOOL_WORDS else "answer yes or no"


BOOL_WORDS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "on": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
    "off": False,
}

RULES: dict[str, Callable[..., str | None]] = {
    "project_name": _free_text_error,
    "project_slug": _slug_error,
    "package_name": _package_error,
    "description": lambda value: _free_text_error(value, required=False),
    "author_name": _free_text_error,
    "author_email": _email_error,
    "github_host": _host_error,
    "github_org": _org_error,
    "private_dependencies": private_dependencies_error,
    "git_auth": _choice_error(GIT_AUTH_MODES),
    "token_secret_name": _secret_error,
    "python_version": _choice_error(SUPPORTED_PYTHONS),
    "poetry_version": _poetry_version_error,
    "package_index_url": _index_url_error,
    "package_index_credentials": _bool_error,
    "license": _choice_error(LICENSES),
    "release_workflow": _bool_error,
    "update_bot": _choice_error(UPDATE_BOTS),
    "template_update_workflow": _bool_error,
}
FREE_TEXT_QUESTIONS = ("project_name", "description", "author_name")


def _app_reaches_dependencies(git_auth: str, private_dependencies: str, github_org: str) -> str | None:
    if git_auth != "github-app":
        return None
    others = [dep for dep in parse_private_dependencies(private_dependencies, github_org, "") if dep.org != github_org]
    if others:
        return (
            f"a GitHub App token reaches only the repositories of github_org {github_org!r}, "
            f"not {others[0].org}/{others[0].repo}; choose 'token' or 'ssh' for dependencies in several organizations"
        )
    return None


def _index_credentials_need_an_index(package_index_credentials: Any, package_index_url: str) -> str | None:
    if as_bool(package_index_credentials) and not package_index_url:
        return "credentials are only for a package index: set package_index_url too, or answer no"
    return None


# Rules that read other answers: question -> (the answers it reads, in the order asked, and the rule).
# Each is attached to the later question, so copier can check it as soon as it is asked.
CROSS_RULES: dict[str, tuple[tuple[str, ...], Callable[..., str | None]]] = {
    "git_auth": (("private_dependencies", "github_org"), _app_reaches_dependencies),
    "package_index_credentials": (("package_index_url",), _index_credentials_need_an_index),
}


def answer_error(name: str, value: Any, **others: Any) -> str:
    """The error message for one answer, or '' when it is valid (copier's validator contract).

    `others` are the earlier answers a cross rule of CROSS_RULES reads; without them it is skipped.
    """
    reason = RULES[name](value if isinstance(value, bool) else str(value))
    if not reason and name in CROSS_RULES and others:
        reason = CROSS_RULES[name][1](value, **others)
    if not reason:
        return ""
    return f"{name}: {str(value)!r} is not valid: {reason}. Example of a good value: {EXAMPLES[name]!r}"


def validate(answers: dict[str, Any]) -> list[str]:
    """Every error in a full set of answers; empty when all are valid."""
    messages = []
    for name in QUESTION_NAMES:
        others = {other: answers[other] for other in CROSS_RULES.get(name, ((), None))[0]}
        message = answer_error(name, answers[name], **others)
        if message:
            messages.append(message)
    return messages


# --- Jinja ----------------------------------------------------------------------------


def toml_string(value: Any) -> str:
    """A TOML basic string that parses back to exactly `value`."""
    escaped = []
    for ch in str(value):
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def gha(expression: str) -> str:
    """A GitHub Actions expression, `${{ expression }}`, without fighting Jinja's delimiters."""
    return "${{ " + expression + " }}"


def credential_helper_env(url: str, token_variable: str, indent: int) -> str:
    """`env:` lines that give git a credential helper for `url` reading the token from
    `token_variable`: the token stays in that step's environment, never on disk or in a URL.
    The empty first helper drops any helper configured on the runner."""
    printf = 'printf "username=x-access-token\\npassword=%s\\n"'
    helper = f'!f() {{ test "$1" = get && {printf} "${{{token_variable}}}"; }}; f'
    lines = [
        'GIT_CONFIG_COUNT: "2"',
        f"GIT_CONFIG_KEY_0: credential.{url}.helper",
        'GIT_CONFIG_VALUE_0: ""',
        f"GIT_CONFIG_KEY_1: credential.{url}.helper",
        f"GIT_CONFIG_VALUE_1: '{helper}'",
    ]
    return ("\n" + " " * indent).join(lines)


def as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else BOOL_WORDS.get(str(value).lower(), False)


# The template's own Jinja defaults (as write_question_files.py writes them into cookiecutter.json)
# and the name of the project directory: the only answer-side sources cookiecutter must compile.
DERIVED_DEFAULTS = frozenset(
    f"{{{{ cookiecutter.{q.derived_from[0]} | {q.derived_from[1]} }}}}" for q in QUESTIONS if q.derived_from
)
PROJECT_DIR = "{{cookiecutter.project_slug}}"


def _project_dir_name(slug: Any) -> str:
    """The slug, or for an invalid one a fresh placeholder the failing pre-generation hook removes."""
    return str(slug) if not answer_error("project_slug", slug) else f".invalid-project-slug-{uuid.uuid4().hex}"


def _treat_answers_as_data(environment: Any) -> None:
    """Make cookiecutter take answers literally, as copier does.

    cookiecutter renders every answer given with --no-input, extra_context or a user config as a
    Jinja template (cookiecutter.prompt.render_variable), before any hook runs: `{{ 7*7 }}` would
    become 49 and an attribute chain could run a shell command. While prompting, only the
    template's derived defaults are compiled here; every other string renders as itself. The
    caller's module is the only sign of an answer that cookiecutter gives.

    cookiecutter also creates the project directory from the slug before the pre-generation hook
    validates it, so a slug like `a/b` would leave `a/` behind; an invalid slug names a fresh
    placeholder directory instead, which cookiecutter deletes when the hook fails.
    """
    compile_string = environment.from_string

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == "cookiecutter.prompt" and source not in DERIVED_DEFAULTS:
            return compile_string("{{ literal }}", {"literal": source})
        if caller == "cookiecutter.generate" and source == PROJECT_DIR:
            source = "{{ cookiecutter.project_slug | _project_dir_name }}"
        return compile_string(source, globals, template_class)

    environment.filters["_project_dir_name"] = _project_dir_name
    environment.from_string = from_string


class RulesExtension(Extension):
    """Exposes the derived values to both engines' Jinja environments."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        if type(environment).__module__.startswith("cookiecutter."):
            _treat_answers_as_data(environment)
        environment.filters.update(
            slug_of=slug_of,
            package_of=package_of,
            toml_string=toml_string,
            zip=lambda left, right: list(zip(left, right, strict=True)),
            host_without_port=host_without_port,
        )
        environment.globals.update(
            answer_error=answer_error,
            gha=gha,
            credential_helper_env=credential_helper_env,
            parse_private_dependencies=parse_private_dependencies,
            poetry_repository_names=poetry_repository_names,
            supported_pythons=SUPPORTED_PYTHONS,
            # Where this module lives: cruft gives hooks no `_repo_dir`, so the hook finds it here.
            rules_dir=str(Path(__file__).resolve().parent),
        )

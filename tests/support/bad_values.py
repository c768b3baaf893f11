"""The one table of answers the template rejects, and of answers it must accept.

Every bad answer runs through both engines' validation in-process (tests/test_answers.py), and
the first of each question through real renders of both engines. A question added to copier.yml
joins this table: a test fails while a question has no bad answer here.

Each bad answer names the exact reason both engines must give, or ENGINE where the engine
itself refuses the value before the template's rules run (a value outside a choice list, a
mapping copier cannot turn into text, a yes/no cookiecutter cannot read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from support.modes import GIT_AUTH_MODES

ENGINE = "<the engine refuses it itself>"


@dataclass(frozen=True)
class Bad:
    question: str
    value: Any
    reason: str
    # Earlier answers the value contradicts.
    others: dict[str, Any] = field(default_factory=dict)

    @property
    def given(self) -> dict[str, Any]:
        return {**self.others, self.question: self.value}

    def __str__(self) -> str:
        return f"{self.question}={self.value!r}"[:70] + (f" with {self.others}" if self.others else "")


TEXT = "must be text"
# The largest port of each alternative of PORT in templates/rules.jinja.
PORT_TOPS = ["65535", "65529", "65499", "64999", "59999", "9999"]
HOST_ONLY = "host[:port] only: no scheme or path"


def bad(question: str, reason: str, *values: Any, **others: Any) -> list[Bad]:
    return [Bad(question, value, reason, others) for value in values]


BAD_ANSWERS: list[Bad] = [
    *bad("project_name", "is empty", "", "   "),
    *bad(
        "project_name",
        "has an invisible character",
        "two\nlines",
        "tab\there",
        "nul\x00",
        "bidi\u202eoverride",
        "nbsp\xa0",
        "zero\u200bwidth",
        "line\u2028separator",
        "private\ue000use",
    ),
    *bad("project_name", TEXT, True, False),
    *bad("project_name", ENGINE, {"a": 1}, ["a", "b"]),
    *bad("project_slug", "is empty", ""),
    *bad("project_slug", TEXT, True),
    *bad("project_slug", "is longer than 100 characters", "a" * 101, "a" * 100 + " "),
    *bad("project_slug", "has a space: use - between words", "Billing Service", "billing service", " billing"),
    *bad("project_slug", "must start with a lower-case a-z", "Billing", "1billing", "-billing", ".", "../escape", "_x"),
    *bad("project_slug", "use only a-z, 0-9 and hyphens", "billing_service", "a/b", "bIlling", "billing.x", "caf\xe9"),
    *bad("project_slug", "has -- or ends with -", "billing--service", "billing-"),
    *bad("package_name", "must start with a-z or _", "1pkg", "Billing", "__", "_", ".pkg"),
    *bad("package_name", "is empty", ""),
    *bad("package_name", TEXT, True),
    *bad("package_name", "use only a-z, 0-9 and _", "my-pkg", "my.pkg", "pkG"),
    *bad("package_name", "is a Python keyword", "class", "match", "type"),
    *bad("package_name", "shadows a standard module", "json", "os", "asyncio", "distutils", "annotationlib", "tomllib"),
    *bad("description", "has an invisible character", "two\nlines", "bell\x07", "\u202e"),
    *bad("private_dependencies", "has an invisible character", "core-lib@a\x7fb", "a@v1,\nb@v2"),
    *bad("description", TEXT, True),
    *bad("author_name", "is empty", ""),
    *bad("author_name", TEXT, False),
    *bad("author_name", "has an invisible character", "cr\r"),
    *bad(
        "author_email",
        "is not like name@example.com",
        "not-an-email",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example.c0m",
        "Name <a@example.com>",
        "a@example..com",
        'a"@example.com',
        "a@" + "b" * 64 + ".com",
        "a" * 243 + "@example.com",
        "a.@example.com",
        "a@example.",
        "a@example." + "z" * 64,
    ),
    *bad("author_email", "is empty", ""),
    *bad("author_email", TEXT, True),
    *bad("github_host", HOST_ONLY, "https://github.com", "github.com/org", "user@github.com", "github.com/"),
    *bad(
        "github_host",
        "port must be 1-65535",
        "github.com:0",
        "github.com:65536",
        "github.com:port",
        "github.com:",
        "github.com:08443",
        "github.com:\xb2",
        "h:99999",
        "github.com:1x",
        "github.com:.1",
        "github.com:1.5",
        "github.com:1:2",
        # One more digit for each length PORT allows; a dot at each place of each top value.
        "h:650000",
        "h:6000000",
        "h:100000",
        *[f"h:{top[:i]}.{top[i + 1 :]}" for top in PORT_TOPS for i in range(len(top))],
    ),
    *bad(
        "github_host",
        "is not a valid host name",
        "git hub.com",
        "-github.com",
        "github..com",
        "github.com.",
        "a" * 64 + ".com",
        "x." + "a" * 64 + ".com",
        ".".join(["a" * 63] * 3) + "." + "a" * 62,
        "github-.com",
        "gith\xfcb.com",
        ".github.com",
        "ghe.example..com",
    ),
    *bad("github_host", "write it in lower case", "GitHub.com", "GHE.example.com:8443", "Zeta.example.com"),
    *bad("github_host", "is empty", ""),
    *bad("github_host", TEXT, True),
    *bad("github_org", "is longer than 39 characters", "a" * 40, "a" * 39 + " "),
    *bad(
        "github_org", "use only letters, digits and -", "acme..corp", "acme/corp", "acme corp", "acme_corp", "acme.corp"
    ),
    *bad("github_org", "has -- or a - at either end", "-acme", "acme-", "acme--corp"),
    *bad("github_org", "is empty", ""),
    *bad("github_org", TEXT, True),
    *bad("private_dependencies", "entry 1 has no @ref", "core-lib", "core-lib, b@v1"),
    *bad("private_dependencies", "entry 2 has no @ref", "a@v1, core-lib"),
    *bad("private_dependencies", "entry 1 has an empty ref", "core-lib@", "core-lib@ , b@v1"),
    *bad(
        "private_dependencies",
        "entry 1: invalid git ref",
        "core-lib@v1..2",
        "core-lib@v1~1",
        "core-lib@v1^",
        "core-lib@a:b",
        "core-lib@main.lock",
        "core-lib@release/.hidden",
        "core-lib@-rf",
        "core-lib@feature//x",
        "core-lib@v1.",
        "core-lib@x@{-1}",
        "core-lib@@",
        "core-lib@a*b",
        "core-lib@a?b",
        "core-lib@a[b",
        "core-lib@a\\b",
        "core-lib@/x",
        "core-lib@x/",
        "core-lib@a b",
        "core-lib@a.lock/b",
        "core-lib@.x",
    ),
    *bad(
        "private_dependencies",
        "entry 1: bad organization",
        "bad..org/core-lib@v1",
        "-org/core-lib@v1",
        "a/b/c@v1",
        "/core-lib@v1",
        "o_o/core-lib@v1",
        "../core-lib@v1",
    ),
    *bad(
        "private_dependencies",
        "entry 1: bad repository",
        "org/core lib@v1",
        "org/core-lib.git@v1",
        "org/core-lib.GIT@v1",
        "org/a..b@v1",
        "org/-lib@v1",
        "org/lib-@v1",
        "@v1",
        "org/" + "a" * 101 + "@v1",
        "org/.lib@v1",
        "org/lib.@v1",
    ),
    *bad(
        "private_dependencies",
        "entries 1, 2: same package",
        "core-lib@v1, core-lib@v2",
        "core-lib@v1, Core_Lib@v2",
        "core.lib@v1, other/core-lib@v2",
        "a--b@v1, a-b@v2",
    ),
    *bad("private_dependencies", "entry 1 names this project", "example-service@v1", "Example_Service@v1"),
    *bad("private_dependencies", "entry 1 names this project", "billing@v1", project_slug="billing"),
    *bad("private_dependencies", TEXT, True),
    *bad(
        "git_auth",
        "an App reaches only example-org, not other-org/tools",
        "github-app",
        private_dependencies="core-lib@v1.0.0, other-org/tools@v2.0.0, third-org/data@v1",
    ),
    *bad("git_auth", ENGINE, "password", "", "GitHub-App"),
    *bad("update_bot", ENGINE, "snyk", "Renovate"),
    *bad("token_secret_name", "use only A-Z, a-z, 0-9 and _", "MY-TOKEN", "MY TOKEN", "TOKEN$", "T\xd6KEN", "MY.TOKEN"),
    *bad("token_secret_name", "must not start with a digit", "1TOKEN", "9TOKEN"),
    *bad("token_secret_name", "GITHUB_ names are reserved", "GITHUB_TOKEN", "github_pat", "GitHub_X"),
    *bad("token_secret_name", "is empty", ""),
    *bad("token_secret_name", TEXT, True),
    *bad("python_version", ENGINE, "3.9", "3.10", "3.15", "2.7", "3"),
    *bad(
        "poetry_version",
        "use a Poetry 2 version: 2.x.y",
        "1.8.0",
        "3.0.0",
        "latest",
        "2.1",
        "2.01.0",
        "v2.1.0",
        ">=2.0",
        "2.1.0b1",
        "2.1.0 ",
        "20.1.0",
        "12.1.0",
        "2..1.0",
        "2.1..0",
        "2.1.1.0",
    ),
    *bad("poetry_version", "is empty", ""),
    *bad("poetry_version", TEXT, True),
    *bad(
        "package_index_url",
        "must start with https://",
        "http://mirror.example.com/simple",
        "ftp://mirror.example.com",
        "mirror.example.com/simple",
        "HTTPS://mirror.example.com",
    ),
    *bad(
        "package_index_url",
        "must not hold credentials",
        "https://user:pass@mirror.example.com/simple",
        "https://token@mirror.example.com/simple",
        "https://user.name@mirror.example.com/simple",
        "https://@mirror.example.com/simple",
    ),
    *bad(
        "package_index_url",
        "no query or fragment",
        "https://mirror.example.com/simple?x=1",
        "https://mirror.example.com/simple#x",
    ),
    *bad("package_index_url", "must not contain spaces", "https://mirror.example.com/a b", "  "),
    *bad("package_index_url", "has an invisible character", "https://mirror.example.com/a\tb"),
    *bad("package_index_url", TEXT, True),
    *bad(
        "package_index_url",
        "is not a valid https:// URL",
        "https://",
        "https://[broken/simple",
        "https://mirror.example.com:0/simple",
        "https://-x.example.com/",
    ),
    *bad("package_index_credentials", "needs a package_index_url", True),
    *bad("package_index_credentials", "answer yes or no", {"x": 1}, package_index_url="https://m.example.com/simple"),
    *bad("license", ENGINE, "GPL", "mit"),
    *bad("release_workflow", "answer yes or no", {"x": 1}, ["yes"]),
    *bad("release_workflow", ENGINE, "sometimes"),
    *bad("template_update_workflow", "answer yes or no", {"x": 1}),
    *bad("fork_safe_caches", "answer yes or no", {"x": 1}, ["no"]),
    *bad("runner_labels", "is empty", "", "  "),
    *bad("runner_labels", "has an empty label", "self-hosted,,linux", "linux,", ",linux", "a, ,b"),
    *bad("runner_labels", "labels use letters, digits, . _ -", "linux;x64", "ubuntu'24", '["linux"]', "gpu:1"),
    *bad("runner_labels", "a label has a space in it", "self hosted", "linux, x 64", "a. b", "a .b"),
    *bad("runner_labels", TEXT, True),
]

# Answers each question must accept, the boundaries among them.
GOOD_ANSWERS: dict[str, list[Any]] = {
    "project_name": ["Billing Service", "x", "Ünïcødé — ${{ github.token }} {{ 7*7 }} $(id) `id` 'q' \"dq\" \\"],
    "project_slug": ["billing-service", "a", "a1-b2", "a" * 100, "z9"],
    "package_name": ["billing_service", "a", "_private", "pkg2", "billing__x", "types_", "z9"],
    "description": ["", "Computes invoices.", "{% raw %}{% endraw %}", "#!/bin/sh; rm -rf /"],
    "author_name": ["Platform Team", 'O\'Brien "Ops"'],
    "author_email": [
        "platform@example.com",
        "first.last+tag@mail.example.co.uk",
        "a_b%c-d@x-y.io",
        "a@" + "b" * 63 + ".com",
        "a" * 242 + "@example.com",
        "Zz9_%+-.Zz9_%+-@example.com",
        "a@example.COM",
        "a@example.Zz",
        "a@example.z",
        "a@example." + "z" * 63,
    ],
    "github_host": [
        "github.com",
        "github.example.com",
        "git.example.internal:8443",
        "localhost",
        "127.0.0.1:1",
        *[f"h:{top}" for top in PORT_TOPS],
        "h:10000",
        # 253 characters of host name, then a port: the length rule counts the name only.
        ".".join(["a" * 63] * 3) + "." + "a" * 61 + ":8443",
        "a" * 63 + ".com",
        ".".join(["a" * 63] * 3) + "." + "a" * 61,
        "ab.cd",
        # z, 9 and - at each place of a label: first, inner, last, in the first and a later label.
        "z9-z9.9z-9z",
        "9z-9z.z9-z9",
        "ghe.example.com:9999",
    ],
    "github_org": ["acme-corp", "a", "A1", "1acme", "a" * 39, "a-b-c", "Zz9-Zz9"],
    "private_dependencies": [
        "",
        "core-lib@v1.2.0",
        "core-lib@v1.2.0, other-org/tools@main",
        "x@0123456789abcdef0123456789abcdef01234567",
        "data_tools@release/2.x",
        "a.b@feature/x-y_z",
        "lib@v1@2",
        "lib@ünï",
        "lib@a.lock.b",
        "a@x,",
        " a@x , b@y ",
        "org/" + "a" * 100 + "@v1",
        "1org/lib@v1",
        # Z, z and 9 first, inside and last in a repository name: Zz9._-Zz9, z, 9Z, a9z.
        "Zz9._-Zz9@v1, z@v1, 9Z@v1, a9z@v1, my.gitx@v1, a.g.t@v1",
        "lib@x@",
        "lib@@x",
    ],
    "git_auth": list(GIT_AUTH_MODES),
    "update_bot": ["renovate", "dependabot", "none"],
    "token_secret_name": ["POETRY_GIT_TOKEN", "_x", "a1", "GITHUBTOKEN", "MY_GITHUB_TOKEN", "Zz9_"],
    "python_version": ["3.11", "3.12", "3.13", "3.14"],
    "poetry_version": ["2.0.0", "2.5.1", "2.10.0", "2.1.12", "2.19.19", "2.9.9"],
    "package_index_url": [
        "",
        "https://nexus.example.com/repository/pypi/simple",
        "https://m.example.com:8443/simple/",
        "https://Mirror.Example.com/simple",
        "https://Z9-Z9.Z9-Z9/",
        "https://9Z-9Z.9Z-9Z/",
        # 253 characters of host name, then a path: the length rule counts the name only.
        "https://" + ".".join(["a" * 63] * 3) + "." + "a" * 61 + "/simple",
        "https://m.example.com",
        # An @ and a second https:// in the path are not credentials.
        "https://proxy.example.com/https://u@x/simple",
    ],
    "package_index_credentials": [False, "no", "false", "0"],
    "license": ["Proprietary", "MIT"],
    "release_workflow": [True, False, "yes", "no", "true", "0", "on", " Yes ", "OFF"],
    "template_update_workflow": [True, False],
    "fork_safe_caches": [True, False, "no"],
    "runner_labels": [
        "ubuntu-24.04",
        "self-hosted, linux, x64",
        "self-hosted,linux",
        "gpu_runner.large",
        "Self-Hosted, Z, z9",
        # Spaces around a comma only: next to the label, not inside it.
        "self-hosted,  linux",
        "x64  , linux",
        "x64 ,linux",
    ],
}

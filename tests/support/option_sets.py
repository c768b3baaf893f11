"""The named option sets every rendering and static check runs over.

Every git_auth mode; no, one and several private dependencies (tag, branch, commit, another
organization); an Enterprise Server host with and without a port; both update bots; the
optional workflows and files on and off; a credentialed package index.
"""

from __future__ import annotations

from typing import Any

OPTION_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-private-deps": {"private_dependencies": ""},
    "token-several-deps": {
        "private_dependencies": (
            "core-lib@v1.2.0, other-org/tools@main, pinned@0123456789abcdef0123456789abcdef01234567"
        ),
    },
    "github-app": {"git_auth": "github-app", "private_dependencies": "core-lib@v2.0.0, helpers@1.4"},
    "ssh": {"git_auth": "ssh", "private_dependencies": "core-lib@v1.0.0"},
    "poetry-http-basic": {
        "git_auth": "poetry-http-basic",
        "private_dependencies": "core-lib@v1.0.0, data_tools@release/2.x",
        "token_secret_name": "ORG_READ_TOKEN",
    },
    "ghes-port": {
        "github_host": "git.example.internal:8443",
        "github_org": "platform",
        "private_dependencies": "core-lib@v3.1.0",
        "python_version": "3.13",
    },
    "dependabot-mit-minimal": {
        "update_bot": "dependabot",
        "license": "MIT",
        "release_workflow": False,
        "package_index_url": "https://mirror.example.com/simple",
        "package_index_credentials": True,
    },
    "template-updates": {"template_update_workflow": True, "update_bot": "none", "python_version": "3.14"},
    "fork-safe-ssh": {"git_auth": "ssh", "private_dependencies": "core-lib@v1.0.0", "fork_safe_caches": True},
    # Combinations the workflows render differently: an App token and a Dependabot git registry
    # on an Enterprise Server host; SSH to a host whose web port differs from its SSH port.
    "ghes-app-dependabot": {
        "github_host": "ghe.example.com",
        "github_org": "platform",
        "git_auth": "github-app",
        "private_dependencies": "core-lib@v1.0.0, tools@v2.1.0",
        "update_bot": "dependabot",
        "template_update_workflow": True,
    },
    "ghes-ssh": {
        "github_host": "git.example.internal:8443",
        "github_org": "platform",
        "git_auth": "ssh",
        "private_dependencies": "core-lib@v1.0.0",
        "update_bot": "none",
        "release_workflow": False,
    },
}

"""Mutation testing of the generated workflows, action and configuration: do the tests notice a
realistic mistake?

    .venv/bin/python quality/mutate_workflows.py                  every mistake of the catalogue
    .venv/bin/python quality/mutate_workflows.py --list           the catalogue, nothing run
    .venv/bin/python quality/mutate_workflows.py --only ssh-      mistakes whose key holds a text
    .venv/bin/python quality/mutate_workflows.py --results r.json each result as it comes

MISTAKES is the catalogue, as data: each mistake names a file of the template (`TREE/...` for the
project tree, whatever its folder is called), an anchor (a regular expression; its first match,
or every match with `every=True`, is replaced), the replacement (re.sub syntax), its kind, and the
tests expected to catch it (pytest node ids or files). One at a time, each is written into a
private copy of the template and its tests run there with `pytest -x`: a failing test kills it.

A mistake whose file or anchor is not found is *not applicable* (the tree changed: rewrite its
anchor, or drop it), never an error; one with `equivalent` set is run all the same and reported
with its reason. Before any mistake the named tests must pass on the unchanged copy. This script
is not part of the test suite or of CI: it checks the tests (docs/maintaining.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.git_credentials import ssh_agents  # noqa: E402
from support.paths import TREE  # noqa: E402  (the one place that names the project tree)

EVENTS_TESTS = "tests/test_workflow_events.py"
STATIC_TESTS = "tests/test_workflows_static.py"
BEHAVIOUR_TESTS = "tests/test_workflow_behaviour.py"
CHECK_TESTS = "tests/test_check_command.py"
ACTION = "TREE/.github/actions/setup-project/action.yml"
CI = "TREE/.github/workflows/ci.yml"
RELEASE = "TREE/.github/workflows/*release.yml*"
RELEASE_GATE = "TREE/scripts/release_gate.sh"
UPDATE = "TREE/.github/workflows/*template-update.yml*"
CREDENTIAL = "templates/credential.jinja"
# The git_auth modes: a mistake in a row is followed by the writer, as a maintainer runs it.
MODES = "templates/git_auth/modes.yml"
FETCH_SCRIPT = "TREE/scripts/fetch_private_sources.sh"
SSH_AGENT = "TREE/scripts/ssh_agent.sh"
CHECK_SCRIPT = "TREE/scripts/check_private_deps.py"
PRIVATE_AUTH_TESTS = "tests/test_private_auth.py"
STRUCTURE = f"{STATIC_TESTS}::test_structure_that_no_tool_checks"


def events(name: str) -> str:
    return f"{EVENTS_TESTS}::test_{name}"


@dataclass(frozen=True)
class Mistake:
    key: str
    kind: str
    file: str  # a glob of paths relative to the template root; TREE/ is the project tree
    anchor: str  # a regular expression (re.M)
    replacement: str
    tests: tuple[str, ...]
    every: bool = False
    equivalent: str = ""  # why no test can notice it, when that is so


CACHES = events("caches_are_saved_only_by_pushes_to_the_default_branch")
GIT_SCOPE = events("git_offers_the_credential_and_rewrites_urls_for_the_configured_host_only")
SSH = events("ssh_accepts_only_the_host_keys_of_the_ssh_known_hosts_variable")
THIRD_PARTY = events("the_org_credential_never_reaches_a_step_that_runs_third_party_code")
APP_KEY = events("the_app_key_reaches_only_the_token_action")
GATE = events("the_release_gate_runs_on_every_tag_and_nothing_runs_after_a_failed_step")
OWN_EVENTS = events("the_release_and_the_template_update_run_only_on_their_own_events")
CANCEL = events("only_a_pull_requests_new_push_cancels_a_run")
BOTS = events("the_update_bots_wait_a_few_days_before_taking_a_release")
POETRY = events("poetry_reads_the_settings_ci_and_the_readme_rely_on")
HANDED_ON = events("a_push_to_the_default_branch_saves_every_cache_it_restores")
ONE_JOB = events("the_org_credential_is_held_by_one_job_that_runs_no_third_party_code")
BASH_P = events("a_step_with_the_org_credential_reads_nothing_an_earlier_step_could_write")
TOLD = events("a_fork_pull_request_is_told_which_secret_is_missing")
ON_DEFAULT = r"(set on_default_branch = \")github\.event_name == 'push' && github\.ref_type == 'branch' && "
SSH_LINE = r"(-o BatchMode=yes -o )StrictHostKeyChecking=yes"
FETCH_STEP = r"(\{\{ pad \}\}- name: Check access to the private dependencies and fetch them\n)"
HAND_OFF_SAVE = r"(      - name: Save the fetched sources for the jobs that install\n        if: [^\n]*)"

MISTAKES = [
    # --- caches: saved by pushes to the default branch only ---
    Mistake(
        "cache-saved-on-pull-requests",
        "cache on pull requests",
        ACTION,
        ON_DEFAULT,
        r"\1(github.event_name == 'push' || github.event_name == 'pull_request') && github.ref_type == 'branch' && ",
        (CACHES,),
        equivalent="a pull request's ref_name is N/merge, never the default branch: the branch "
        "condition alone keeps pull requests out",
    ),
    Mistake(
        "cache-saved-by-pull-requests-into-main",
        "cache on pull requests",
        ACTION,
        r"(set on_default_branch = \")github\.event_name == 'push' && .*\"",
        r"\1github.ref_type == 'branch' && (github.ref_name == github.event.repository.default_branch"
        r" || github.base_ref == github.event.repository.default_branch)\"",
        (CACHES,),
    ),
    Mistake(
        "private-sources-kept-after-a-failure",
        "cache on pull requests",
        ACTION,
        r"(    - name: Remove private git sources\n      if: )always\(\)",
        r"\1success()",
        (CACHES, STRUCTURE),
        equivalent="no cache is saved after a failed step (every save needs success()), and the runner "
        "empties its temporary folder after each job",
    ),
    Mistake(
        "cache-saved-unless-pull-request",
        "cache on pull requests",
        ACTION,
        ON_DEFAULT,
        r"\1github.event_name != 'pull_request' && github.ref_type == 'branch' && ",
        (CACHES,),
    ),
    Mistake(
        "cache-save-condition-precedence",
        "cache on pull requests",
        ACTION,
        ON_DEFAULT,
        r"\1github.event_name == 'push' || github.ref_type == 'branch' && ",
        (CACHES,),
    ),
    Mistake(
        "cache-saved-by-any-branch",
        "cache on pull requests",
        ACTION,
        r" && github\.ref_name == github\.event\.repository\.default_branch",
        "",
        (CACHES,),
    ),
    Mistake(
        "cache-saved-by-a-tag-named-like-the-branch",
        "cache on pull requests",
        ACTION,
        r"github\.ref_type == 'branch' && (github\.ref_name)",
        r"\1",
        (CACHES,),
        equivalent="only a tag named like the default branch would save, into that tag's own cache scope, "
        "which no other ref can restore",
    ),
    Mistake(
        "poetry-tool-saved-on-every-event",
        "cache on pull requests",
        ACTION,
        r"(if: steps\.poetry\.outputs\.cache-hit != 'true') && \{\{ on_default_branch \}\}",
        r"\1",
        (CACHES,),
    ),
    Mistake(
        "cache-action-saves-in-its-post-step",
        "cache on pull requests",
        ACTION,
        r"actions/cache/restore@(\w+  # v[\d.]+\n      with:\n        path: ~/\.cache/pypoetry)",
        r"actions/cache@\1",
        (CACHES, STRUCTURE),
    ),
    # --- git credentials and URL rewriting: the configured host only ---
    Mistake(
        "helper-for-every-url",
        "credential helper to every host",
        "templates/project.jinja",
        r"credential\.\{\{ url \}\}\.helper",
        "credential.helper",
        (GIT_SCOPE,),
        every=True,
    ),
    Mistake(
        "helper-for-every-https-host",
        "credential helper to every host",
        FETCH_SCRIPT,
        r"credential\.https://\$\{GIT_HOST\}\.helper",
        "credential.https://.helper",
        (GIT_SCOPE,),
        every=True,
    ),
    Mistake(
        "update-helper-for-every-https-host",
        "credential helper to every host",
        UPDATE,
        r'credential_helper_env\(gha\("github\.server_url"\), "READ_TOKEN"',
        'credential_helper_env("https://", "READ_TOKEN"',
        (GIT_SCOPE,),
    ),
    Mistake(
        "mirrors-stand-in-for-every-host",
        "credential helper to every host",
        ACTION,
        r"(insteadOf\n        GIT_CONFIG_VALUE_0: )https://\{\{ host \}\}/(\n\{%- if cookiecutter\.package)",
        r"\1https://\2",
        (GIT_SCOPE,),
    ),
    Mistake(
        "ssh-rewrite-without-the-slash",
        "credential helper to every host",
        SSH_AGENT,
        r'(GIT_CONFIG_VALUE_0="https://\$\{GIT_HOST\})/"',
        r'\1"',
        (GIT_SCOPE,),
    ),
    Mistake(
        "check-command-helper-for-every-url",
        "credential helper to every host",
        "TREE/scripts/check_private_deps.py",
        r'key = int\(count\), f"credential\.\{url\}\.helper"',
        'key = int(count), "credential.helper"',
        (
            f"{CHECK_TESTS}::test_the_helper_answers_for_its_url_and_no_other",
            f"{CHECK_TESTS}::test_fetch_never_sends_the_token_elsewhere_nor_writes_it",
        ),
    ),
    # --- ssh: the host key from the variable, checked strictly ---
    Mistake(
        "ssh-accepts-any-host-key",
        "unknown SSH host keys accepted",
        SSH_AGENT,
        SSH_LINE,
        r"\1StrictHostKeyChecking=no",
        (SSH,),
    ),
    Mistake(
        "ssh-accepts-a-new-host-key",
        "unknown SSH host keys accepted",
        SSH_AGENT,
        SSH_LINE,
        r"\1StrictHostKeyChecking=accept-new",
        (SSH,),
    ),
    Mistake(
        "ssh-known-hosts-discarded",
        "unknown SSH host keys accepted",
        SSH_AGENT,
        r'"UserKnownHostsFile=\$\{agent_dir\}/known_hosts"',
        "UserKnownHostsFile=/dev/null",
        (SSH,),
    ),
    Mistake(
        "ssh-host-key-scanned",
        "unknown SSH host keys accepted",
        SSH_AGENT,
        r"printf '%s\\n' \"\$\{SSH_KNOWN_HOSTS\}\" >",
        r'ssh-keyscan "${GIT_HOST%%:*}" >',
        (SSH,),
    ),
    Mistake(
        "ssh-known-hosts-from-the-key",
        "unknown SSH host keys accepted",
        MODES,
        # The ssh row's two reads hand their values to each other's variable (the writer's shape
        # checks refuse a secret written into fetch_env, so the mistake takes this form).
        r"^      env: SSH_PRIVATE_KEY\n((?:.*\n)*?)      env: SSH_KNOWN_HOSTS\n",
        r"      env: SSH_KNOWN_HOSTS\n\1      env: SSH_PRIVATE_KEY\n",
        (SSH,),
    ),
    # --- the org credential and the App key stay where they belong ---
    Mistake(
        "token-in-the-test-step",
        "secret to third-party code",
        CI,
        r"(\n        )run: poetry run pytest",
        r'\1env:\1  PRIVATE_GIT_TOKEN: {{ gha("secrets." ~ cookiecutter.token_secret_name) }}\1run: poetry run pytest',
        (THIRD_PARTY,),
    ),
    Mistake(
        "token-in-the-install-step",
        "secret to third-party code",
        ACTION,
        r'(\n        )POETRY_SYSTEM_GIT_CLIENT: "true"',
        r'\1SSH_PRIVATE_KEY: {{ gha("inputs.ssh-private-key") }}\1POETRY_SYSTEM_GIT_CLIENT: "true"',
        (THIRD_PARTY,),
    ),
    Mistake(
        "fetch-step-with-site-packages",
        "secret to third-party code",
        FETCH_SCRIPT,
        r'check=\("\$\{PYTHON\}" -I -S ',
        'check=("${PYTHON}" ',
        (THIRD_PARTY,),
    ),
    Mistake(
        "app-key-in-the-fetch-step",
        "App key out of its place",
        MODES,
        # The App key read is handed to the fetch step as its token, instead of the minted one.
        r"^(      description: Private key of that GitHub App\n)((?:.*\n)*?)  fetch_env:\n    PRIVATE_GIT_TOKEN: .*\n",
        r"\1      env: PRIVATE_GIT_TOKEN\n\2",
        (APP_KEY,),
    ),
    Mistake(
        "app-key-in-the-copier-step",
        "App key out of its place",
        UPDATE,
        r'(\n          )(READ_TOKEN: \{\{ gha\("steps\.read-token\.outputs\.token"\) \}\})',
        r'\1\2\1APP_KEY: {{ gha("secrets.TEMPLATE_UPDATE_APP_PRIVATE_KEY") }}',
        (APP_KEY,),
    ),
    Mistake(
        "app-key-out-of-its-environment",
        "App key out of its place",
        UPDATE,
        r"\n    environment: template-update",
        "",
        (events("the_template_update_key_is_read_only_in_its_protected_environment"),),
    ),
    Mistake(
        "ci-runs-with-secrets-for-forks",
        "secret to third-party code",
        CI,
        r"^  pull_request:$",
        "  pull_request_target:",
        (events("no_step_holds_a_secret_in_a_run_a_fork_can_start"),),
    ),
    Mistake(
        "fetch-skipped-on-a-warm-cache",
        "gate switched off",
        CREDENTIAL,
        FETCH_STEP,
        r"\1{{ pad }}  if: steps.sources.outputs.cache-hit != 'true'\n",
        (TOLD,),
    ),
    Mistake(
        "ci-skips-fork-pull-requests",
        "gate switched off",
        CI,
        r"(  lint:\n    name: Lint and type check\n)",
        r"\1    if: github.event.pull_request.head.repo.fork != true\n",
        (events("ci_runs_every_job_for_pull_requests_forks_included_pushes_to_the_default_branch_and_manual_runs"),),
    ),
    # --- the credential job: the one job with the org secret, running nothing third-party ---
    Mistake(
        "org-secret-in-a-lint-step",
        "credential job",
        CI,
        r"^(      - name: Lint\n)",
        '      - name: Show the git version\n        env:\n          TOKEN: {{ gha("secrets.SSH_PRIVATE_KEY") }}\n'
        "        run: git --version\n\n\\1",
        (ONE_JOB, STRUCTURE),
    ),
    Mistake(
        "lint-job-secrets-inherit",
        "credential job",
        CI,
        r"(  lint:\n    name: Lint and type check\n)",
        r"\1    secrets: inherit\n",
        (STRUCTURE,),
    ),
    Mistake(
        "credential-job-installs-poetry",
        "credential job",
        CI,
        r"(      # A known interpreter for the check script)",
        "      - name: Install Poetry\n        run: pipx install poetry\n\n\\1",
        (ONE_JOB, STRUCTURE),
    ),
    Mistake(
        "credential-step-shell-loosened",
        "credential job",
        CREDENTIAL,
        r"shell: /bin/bash --noprofile --norc -p -e \{0\}",
        "shell: bash",
        (BASH_P,),
    ),
    Mistake(
        "fetch-script-run-by-plain-bash",
        "credential job",
        CREDENTIAL,
        r"run: exec /bin/bash --noprofile --norc -p scripts/",
        "run: bash scripts/",
        (BASH_P,),
    ),
    Mistake(
        "fetch-script-keeps-the-path",
        "credential job",
        FETCH_SCRIPT,
        r"^export PATH=/usr/bin:/bin ",
        "export ",
        (f"{PRIVATE_AUTH_TESTS}::test_an_earlier_step_cannot_steer_the_credential_step",),
    ),
    Mistake(
        "ssh-agent-socket-at-a-fixed-path",
        "credential job",
        SSH_AGENT,
        r'^agent_dir="\$\(mktemp -d\)"',
        'agent_dir="${RUNNER_TEMP}"',
        (SSH,),
    ),
    Mistake(
        "ssh-reads-the-user-config",
        "credential job",
        SSH_AGENT,
        r"options=\(-F /dev/null ",
        "options=(",
        (SSH,),
    ),
    Mistake(
        "ssh-offers-every-agent-key",
        "credential job",
        SSH_AGENT,
        r" -o IdentitiesOnly=yes",
        "",
        (SSH,),
    ),
    Mistake(
        "ssh-agent-outlives-a-cancelled-step",
        "credential job",
        SSH_AGENT,
        r"ssh-agent -D -a ",
        "ssh-agent -a ",
        (f"{PRIVATE_AUTH_TESTS}::test_a_cancelled_ssh_step_leaves_no_agent",),
    ),
    Mistake(
        "hand-off-with-history",
        "credential job",
        CHECK_SCRIPT,
        r'"fetch", "--quiet", "--depth", "1", ',
        '"fetch", "--quiet", ',
        (f"{PRIVATE_AUTH_TESTS}::test_the_sources_hand_off_holds_no_history_but_the_search_would_find_it",),
    ),
    Mistake(
        "hand-off-keyed-by-the-run",
        "credential job",
        CI,
        HAND_OFF_SAVE + r'(\n.*\n.*\n.*\n          key: )\{\{ gha\("steps\.locked\.outputs\.key"\) \}\}',
        r'\1\2private-sources-{{ gha("github.run_id") }}',
        (CACHES,),
    ),
    Mistake(
        "hand-off-saved-by-pushes-only",
        "credential job",
        CI,
        HAND_OFF_SAVE,
        r"\1 && github.event_name == 'push'",
        (HANDED_ON,),
    ),
    Mistake(
        "hand-off-in-fork-safe-mode",
        "credential job",
        CI,
        r"\{%- if not fork_safe %\}(\n  # The only job that holds)",
        r"{%- if true %}\1",
        (CACHES,),
    ),
    Mistake(
        "test-job-does-not-wait-for-the-hand-off",
        "credential job",
        CI,
        r"(  test:\n    name: [^\n]*\n\{%- if not fork_safe %\}\n)    needs: private-sources\n",
        r"\1",
        (HANDED_ON, STRUCTURE),
    ),
    # --- the release gate ---
    Mistake(
        "release-gate-only-on-branches",
        "gate switched off",
        RELEASE,
        r"(      - name: Wait for CI to pass on the tagged commit\n)",
        r"\1        if: github.ref_type == 'branch'\n",
        (GATE,),
    ),
    Mistake(
        "release-gate-may-fail",
        "gate switched off",
        RELEASE,
        r"(      - name: Wait for CI to pass on the tagged commit\n)",
        r"\1        continue-on-error: true\n",
        (GATE,),
    ),
    Mistake(
        "release-tag-check-skippable",
        "gate switched off",
        RELEASE,
        r"(      - name: Check that the tag matches the project version\n)",
        r"\1        if: steps.version.outputs.skip != 'true'\n",
        (GATE,),
    ),
    Mistake(
        "release-published-after-a-failure",
        "gate switched off",
        RELEASE,
        r"(      - name: Publish the GitHub release\n)",
        r"\1        if: always()\n",
        (GATE,),
    ),
    Mistake(
        "release-gate-after-publishing",
        "gate switched off",
        RELEASE,
        r"(      - name: Publish the GitHub release\n)",
        r"\1        if: success() || failure()\n",
        (GATE,),
    ),
    Mistake(
        "release-on-branch-pushes",
        "gate switched off",
        RELEASE,
        r'^    tags: \["v\*"\]',
        '    branches: [main]\n    tags: ["v*"]',
        (OWN_EVENTS,),
    ),
    Mistake(
        "release-gate-counts-any-event",
        "gate switched off",
        RELEASE_GATE,
        r"&event=push",
        "",
        (f"{BEHAVIOUR_TESTS}::test_the_release_goes_on_when_ci_passed_on_the_tagged_commit",),
    ),
    Mistake(
        "release-gate-counts-a-side-branch-run",
        "gate switched off",
        RELEASE_GATE,
        r"&branch=\$\{DEFAULT_BRANCH\}",
        "",
        (f"{BEHAVIOUR_TESTS}::test_a_tag_on_a_side_branch_whose_ci_passed_is_not_released",),
    ),
    Mistake(
        "release-gate-takes-a-commit-off-the-default-branch",
        "gate switched off",
        RELEASE_GATE,
        r'\[ "\$\{position\}" = identical \]',
        '[ "${position}" = identical ] || [ "${position}" = diverged ]',
        (f"{BEHAVIOUR_TESTS}::test_a_tag_on_a_side_branch_whose_ci_passed_is_not_released",),
    ),
    Mistake(
        "release-of-an-unknown-tag",
        "gate switched off",
        RELEASE,
        r" --verify-tag",
        "",
        (f"{BEHAVIOUR_TESTS}::test_no_release_is_made_for_a_tag_the_server_does_not_have",),
    ),
    Mistake(
        "template-update-on-pull-requests",
        "gate switched off",
        UPDATE,
        r"^  workflow_dispatch:$",
        "  workflow_dispatch:\n  pull_request:",
        (OWN_EVENTS,),
    ),
    # --- update bots' cooldown ---
    Mistake(
        "actions-cooldown-removed",
        "cooldown removed",
        "TREE/.github/dependabot.yml",
        r"    cooldown:\n      default-days: 7\n",
        "",
        (BOTS,),
    ),
    Mistake(
        "pip-cooldown-removed",
        "cooldown removed",
        "TREE/.github/dependabot.yml",
        r"    cooldown:\n      default-days: 3\n",
        "",
        (BOTS,),
    ),
    Mistake(
        "renovate-release-age-removed",
        "cooldown removed",
        "TREE/*renovate.json*",
        r',\n      "minimumReleaseAge": "3 days"',
        "",
        (BOTS,),
    ),
    Mistake(
        "renovate-release-age-shortened",
        "cooldown removed",
        "TREE/*renovate.json*",
        r'"minimumReleaseAge": "3 days"',
        '"minimumReleaseAge": "1 day"',
        (BOTS,),
    ),
    # --- Poetry's settings ---
    Mistake(
        "poetry-builtin-git-client",
        "Poetry setting flipped",
        "TREE/poetry.toml",
        r"^system-git-client = true",
        "system-git-client = false",
        (POETRY,),
    ),
    Mistake(
        "poetry-venv-elsewhere",
        "Poetry setting flipped",
        "TREE/poetry.toml",
        r"^in-project = true",
        "in-project = false",
        (POETRY,),
    ),
    # --- permissions, pins, checkout credentials, timeouts, expressions in run: ---
    Mistake(
        "lint-may-write",
        "permissions widened",
        CI,
        r"(  lint:(?:\n.*)*?\n      )contents: read",
        r"\1contents: write",
        (STRUCTURE,),
    ),
    Mistake("ci-write-all", "permissions widened", CI, r"^permissions: \{\}", "permissions: write-all", (STRUCTURE,)),
    Mistake(
        "update-may-push-with-its-own-token",
        "permissions widened",
        UPDATE,
        r"(\n    permissions:\n      )contents: read",
        r"\1contents: write",
        (STRUCTURE,),
    ),
    Mistake(
        "checkout-keeps-credentials",
        "persist-credentials true",
        CI,
        r"persist-credentials: false",
        "persist-credentials: true",
        (STRUCTURE,),
    ),
    Mistake(
        "release-checkout-keeps-credentials",
        "persist-credentials true",
        RELEASE,
        r"persist-credentials: false",
        "persist-credentials: true",
        (STRUCTURE,),
    ),
    Mistake(
        "setup-python-by-tag",
        "action unpinned",
        ACTION,
        r"actions/setup-python@[0-9a-f]{40}  # v[\d.]+",
        "actions/setup-python@v7",
        (STRUCTURE,),
    ),
    Mistake(
        "app-token-action-by-tag",
        "action unpinned",
        UPDATE,
        r"actions/create-github-app-token@[0-9a-f]{40}  # v[\d.]+",
        "actions/create-github-app-token@v3",
        (STRUCTURE,),
    ),
    Mistake(
        "ssh-agent-from-a-third-party",
        "secret to third-party code",
        CREDENTIAL,
        r"(\{\{ pad \}\}# The only step that holds the credential)",
        "{{ pad }}- name: Start an agent\n"
        "{{ pad }}  uses: webfactory/ssh-agent@a6f90b1f127823b31d4d4a8d96047790581349bd  # v0.9.1\n"
        "{{ pad }}  with:\n"
        "{{ pad }}    ssh-private-key: "
        '{{ gha("inputs.ssh-private-key" if source == "inputs" else "secrets.SSH_PRIVATE_KEY") }}\n\n'
        "\\1",
        (THIRD_PARTY, STRUCTURE),
    ),
    Mistake(
        "pushes-to-main-cancelled",
        "concurrency cancels pushes",
        CI,
        r"cancel-in-progress: \{\{ gha\(\"github\.event_name == 'pull_request'\"\) \}\}",
        "cancel-in-progress: true",
        (CANCEL,),
    ),
    Mistake(
        "release-cancelled-by-the-next-tag",
        "concurrency cancels pushes",
        RELEASE,
        r"cancel-in-progress: false",
        "cancel-in-progress: true",
        (CANCEL,),
    ),
    Mistake("test-job-without-timeout", "timeout removed", CI, r"    timeout-minutes: 20\n", "", (STRUCTURE,)),
    Mistake("update-job-without-timeout", "timeout removed", UPDATE, r"    timeout-minutes: 15\n", "", (STRUCTURE,)),
    Mistake(
        "poetry-version-in-run",
        "expression in run:",
        ACTION,
        r'"poetry==\$\{POETRY_VERSION\}"',
        "\"poetry=={{ gha('inputs.poetry-version') }}\"",
        (STRUCTURE,),
    ),
    Mistake(
        "tag-name-in-run",
        "expression in run:",
        RELEASE,
        r'"\$\{GITHUB_REF_NAME\}" != "v\$\{version\}"',
        '"{{ gha(\'github.ref_name\') }}" != "v${version}"',
        (STRUCTURE,),
    ),
    # --- the check command's security paths ---
    Mistake(
        "check-command-url-taken-as-option",
        "check command",
        "TREE/scripts/check_private_deps.py",
        r'\["ls-remote", "--exit-code", "--", dependency\.url',
        '["ls-remote", "--exit-code", dependency.url',
        (f"{CHECK_TESTS}::test_git_gets_the_url_after_double_dash_with_transports_limited",),
    ),
    Mistake(
        "check-command-any-transport",
        "check command",
        "TREE/scripts/check_private_deps.py",
        r'GIT_ALLOW_PROTOCOL="https:ssh"',
        'GIT_ALLOW_PROTOCOL="https:ssh:file:ext"',
        (f"{CHECK_TESTS}::test_git_gets_the_url_after_double_dash_with_transports_limited",),
    ),
    Mistake(
        "check-command-prints-the-token",
        "check command",
        "TREE/scripts/check_private_deps.py",
        r'if value and \(key == "PRIVATE_GIT_TOKEN" or',
        'if value and (key == "UNSET" or',
        (f"{CHECK_TESTS}::test_printed_text_loses_every_credential_of_this_run",),
    ),
]


# --- applying ----------------------------------------------------------------------------------


def tree_files(root: Path) -> dict[str, Path]:
    """The template's files by the names the catalogue uses (TREE/ for the project tree)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    names = {}
    for name in filter(None, listed.split("\0")):
        path = root / name
        if path.is_file():
            parts = Path(name).parts
            shown = "/".join(["TREE", *parts[1:]]) if parts[0] == TREE.name else name
            names[shown] = path
    return names


def apply(mistake: Mistake, files: dict[str, Path]) -> tuple[Path, str, str] | None:
    """(file, original text, mutated text), or None when the file or the anchor is not found."""
    pattern = re.compile(mistake.anchor, re.M)
    for name in sorted(files):
        if Path(name).match(mistake.file) or name == mistake.file:
            text = files[name].read_text(encoding="utf-8")
            changed = pattern.sub(mistake.replacement, text, count=0 if mistake.every else 1)
            if changed != text:
                return files[name], text, changed
    return None


def copy_template(destination: Path) -> Path:
    for path in tree_files(ROOT).values():
        relative = path.relative_to(ROOT)
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return destination


def write(copy: Path, path: Path, text: str) -> str:
    """Write a file of the copy; after the table of modes, the files written from it too. What
    the writer says when it refuses the row ("" when it accepts it)."""
    path.write_text(text, encoding="utf-8")
    if path != copy / MODES:
        return ""
    done = subprocess.run(
        [sys.executable, "maintainer/write_question_files.py"], cwd=copy, capture_output=True, text=True
    )
    return "" if done.returncode == 0 else done.stderr.strip() or done.stdout.strip() or "refused"


# --- running -----------------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    kind: str
    status: str  # killed, survived, equivalent, not applicable, error
    seconds: float
    detail: str = ""


def pytest(copy: Path, scratch: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    """Run `tests` in the copy, stopping at the first failure: (exit code or None on timeout, output)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    command = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-n", "0", "-p", "no:cacheprovider"]
    command += [f"--basetemp={scratch / 'pytest'}", "-o", "addopts=", "--tb=line"]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(scratch)}
    before = ssh_agents(under=scratch)
    try:
        done = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=timeout, env=environment)
    except subprocess.TimeoutExpired as expired:
        return None, str(expired.stdout or "")
    finally:
        # A mistake that lets the agent outlive its step leaves one holding the test key: it must
        # not outlive the mistake's run, where a later canary would find it. Only agents of this
        # run's folder: another run on the machine (a benchmark, a test) keeps its own.
        for pid in ssh_agents(under=scratch) - before:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    """The failing test, and the line that says why (`--tb=line`)."""
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
    why = re.search(r"^/\S+:\d+: (.*)$", output, re.M)
    return " | ".join(part[1] for part in (found, why) if part)


def baseline(copy: Path, scratch: Path, tests: list[str], timeout: float) -> set[str]:
    """The named tests that fail (or no longer exist) on the unchanged template: none, normally."""
    started = time.monotonic()
    code, _ = pytest(copy, scratch, tuple(tests), timeout * 5)
    broken = set()
    if code != 0:
        for test in tests:
            code, output = pytest(copy, scratch, (test,), timeout)
            if code != 0:
                broken.add(test)
                print(f"unchanged template: {test} fails or is missing (exit {code}): {first_failure(output)}")
    print(f"unchanged template: {len(tests) - len(broken)} of {len(tests)} named tests pass", end="")
    print(f" ({time.monotonic() - started:.1f} s)", flush=True)
    return broken


def run(mistakes: list[Mistake], timeout: float, results_path: Path | None) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix="mutate-workflows-"))
    try:
        copy = copy_template(work / "copy")
        files = tree_files(ROOT)
        copied = {name: copy / path.relative_to(ROOT) for name, path in files.items()}
        applicable = [m for m in mistakes if apply(m, files)]
        broken = baseline(copy, work / "scratch", sorted({test for m in applicable for test in m.tests}), timeout)
        results = []
        for number, mistake in enumerate(mistakes, 1):
            began = time.monotonic()
            found = apply(mistake, copied)
            unusable = sorted(broken & set(mistake.tests))
            if found is not None and unusable:
                result = Result(mistake.key, mistake.kind, "error", 0.0, f"fails unchanged or is missing: {unusable}")
            elif found is None:
                result = Result(
                    mistake.key, mistake.kind, "not applicable", 0.0, f"no {mistake.anchor!r} in {mistake.file}"
                )
            else:
                path, original, changed = found
                refused = write(copy, path, changed)
                try:
                    code, output = (1, "") if refused else pytest(copy, work / "scratch", mistake.tests, timeout)
                finally:
                    assert not write(copy, path, original), "the unchanged table is refused"
                seconds = time.monotonic() - began
                if refused:
                    # A maintainer cannot write it in: the writer's own checks catch it.
                    result = Result(mistake.key, mistake.kind, "killed", seconds, f"the writer refuses it: {refused}")
                elif code == 1:
                    result = Result(mistake.key, mistake.kind, "killed", seconds, first_failure(output))
                elif code is None:
                    result = Result(mistake.key, mistake.kind, "killed", seconds, "timeout")
                elif code == 0:
                    status = "equivalent" if mistake.equivalent else "survived"
                    result = Result(mistake.key, mistake.kind, status, seconds, mistake.equivalent)
                else:
                    result = Result(mistake.key, mistake.kind, "error", seconds, f"pytest exit {code}: {output[-500:]}")
            results.append(result)
            print(
                f"[{number}/{len(mistakes)}] {result.status:<14} {result.seconds:5.1f} s  {mistake.key}",
                result.detail[:240],
                flush=True,
            )
            if results_path:
                results_path.write_text(json.dumps([asdict(r) for r in results], indent=1))
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: list[Result], seconds: float) -> None:
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("killed", "survived", "equivalent", "not applicable", "error")
    }
    print()
    print(f"mutants: {len(results)}, " + ", ".join(f"{status}: {count}" for status, count in counts.items()))
    judged = counts["killed"] + counts["survived"]
    if judged:
        print(f"killed over non-equivalent: {counts['killed']}/{judged} = {100 * counts['killed'] / judged:.1f}%")
    print(f"run time: {seconds / 60:.1f} minutes")
    for result in results:
        if result.status in ("survived", "equivalent", "not applicable", "error"):
            print(f"  {result.status.upper()}: {result.key} ({result.kind})  {result.detail[:200]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the catalogue and whether each applies, run nothing")
    parser.add_argument("--only", action="append", default=[], help="run the mistakes whose key holds this text")
    parser.add_argument("--results", type=Path, help="write each result to this JSON file as it comes")
    parser.add_argument(
        "--with-tests",
        action="append",
        default=[],
        help="run these tests for every mistake instead of its own (to compare test suites)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run counts as killed")
    options = parser.parse_args(argv)
    keys = [m.key for m in MISTAKES]
    if len(set(keys)) != len(keys):
        raise SystemExit("two mistakes share a key")
    mistakes = [m for m in MISTAKES if not options.only or any(text in m.key for text in options.only)]
    if options.with_tests:
        mistakes = [replace(m, tests=tuple(options.with_tests)) for m in mistakes]
    if options.list:
        files = tree_files(ROOT)
        for mistake in mistakes:
            applies = "applies" if apply(mistake, files) else "NOT APPLICABLE"
            print(f"{mistake.key:<45} {mistake.kind:<32} {applies}  -> {' '.join(mistake.tests)}")
        print(f"{len(mistakes)} mistakes")
        return 0
    started = time.monotonic()
    results = run(mistakes, options.timeout, options.results)
    report(results, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

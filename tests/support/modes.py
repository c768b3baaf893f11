"""The git_auth modes as templates/git_auth/modes.yml defines them, read by the writer of their
Jinja form: the tests that run each mode take the list from here, so a new row is covered."""

from __future__ import annotations

from maintainer.write_question_files import git_auth_modes

GIT_AUTH_MODES = git_auth_modes()


def name_of(read: dict[str, str], token_secret_name: str) -> str:
    return read["name"].replace("{token_secret_name}", token_secret_name)


def secret_of(mode: str, token_secret_name: str) -> str:
    """The mode's one secret: the fetch step names it when it is missing."""
    [secret] = [read for read in GIT_AUTH_MODES[mode]["reads"] if read["kind"] == "secret"]
    return name_of(secret, token_secret_name)

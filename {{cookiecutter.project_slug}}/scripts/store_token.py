{%- from 'templates/project.jinja' import host with context -%}
#!/usr/bin/env python3
"""Store a token for {{ host }} in git's credential store, on any system (Windows included).

    python3 scripts/store_token.py          (Windows: py scripts\\store_token.py)

Asks for the token with a visible prompt and reads it without showing it, then hands it to
`git credential approve` on standard input: git gives it to the credential helper you set up
(macOS Keychain, Git Credential Manager, git's memory cache), which keeps it. The token is never
printed, never put on a command line or in the environment, and never written anywhere by this
script. With no helper set, git would drop the token silently: this script stops first and says
how to set one. Standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys

HOST = {{ host | tojson }}
{%- raw %}
# The user name GitHub expects beside a token; the server reads only the token.
USERNAME = "x-access-token"
SET_A_HELPER = (
    "git has no credential helper for https://{host}/, so it would drop the token.\n"
    "Set one first (README.md, option B):\n"
    "  macOS:   git config --global credential.helper osxkeychain\n"
    "  Windows: git config --global credential.helper manager\n"
    "  Linux:   git config --global credential.helper 'cache --timeout=28800'"
)


def credential_helper(host: str) -> str:
    """The credential helper git would ask for https://host/, or "" when there is none."""
    result = subprocess.run(
        ["git", "config", "--get-urlmatch", "credential.helper", f"https://{host}/"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def token_problem(token: str) -> str | None:
    """Why this is not a token git can store, or None."""
    if not token:
        return "no token given"
    if not token.isprintable() or any(character.isspace() for character in token):
        return "a token is one word of printable characters: paste it again"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default=HOST, help=f"git host (default: {HOST})")
    args = parser.parse_args(argv)

    helper = credential_helper(args.host)
    if not helper:
        print(SET_A_HELPER.format(host=args.host), file=sys.stderr)
        return 2
    print(f"git will keep the token with its credential helper '{helper}'.")
    prompt = f"Token for {args.host} (hidden as you paste; Enter to finish): "
    try:
        token = getpass.getpass(prompt).strip()
    except (EOFError, KeyboardInterrupt):
        print("\nNothing stored.", file=sys.stderr)
        return 1
    problem = token_problem(token)
    if problem:
        print(f"Nothing stored: {problem}.", file=sys.stderr)
        return 1
    request = f"protocol=https\nhost={args.host}\nusername={USERNAME}\npassword={token}\n\n"
    approve = ["git", "credential", "approve"]
    result = subprocess.run(approve, input=request, text=True, check=False)
    if result.returncode != 0:
        print("Nothing stored: git credential approve failed (see above).", file=sys.stderr)
        return 1
    print("Stored. Check your access: python3 scripts/check_private_deps.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
{%- endraw %}

"""git credentials as the generated workflows hand them over, and the search for a token left
on disk afterwards (test_renovate, test_adopt)."""

from __future__ import annotations

import base64
from pathlib import Path

from support.gitserver import GitServer


def credential_helper_env(server: GitServer, variable: str = "PRIVATE_GIT_TOKEN") -> dict[str, str]:
    """git's credential for the server as a bot's job gets it: a helper given only through
    GIT_CONFIG_* that reads the token from the environment variable `variable` (the generated
    workflows' form). Nothing is written to disk and no URL holds the token."""
    printf = 'printf "username=x-access-token\\npassword=%s\\n"'
    helper = f'!f() {{ test "$1" = get && {printf} "${{{variable}}}"; }}; f'
    url = f"https://{server.host}"
    return {
        variable: server.token,
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"credential.{url}.helper",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": f"credential.{url}.helper",
        "GIT_CONFIG_VALUE_1": helper,
        "GIT_TERMINAL_PROMPT": "0",
    }


def files_holding(root: Path, secret: str) -> list[str]:
    """Files under root that hold the secret, plainly or in base64 (any alignment)."""
    needles = [secret.encode()]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret.encode())
        needles.append(encoded[4 if offset else 0 : 4 * ((offset + len(secret)) // 3)])
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and any(needle in path.read_bytes() for needle in needles)
    ]

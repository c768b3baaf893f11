"""The package index this machine's pip uses, for the demo, the tests and the benchmark."""

from __future__ import annotations

import subprocess
import sys


def package_index_url() -> str:
    """The index pip uses here, read at run time: no registry is named in the repository."""
    configured = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True
    ).stdout.strip()
    if configured:
        return configured
    from pip._internal.models.index import PyPI

    return PyPI.simple_url

"""Where the template lives, seen from its tests."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The one project tree both engines render; its name is cookiecutter's template for the project
# directory.
TREE = ROOT / "{{cookiecutter.project_slug}}"

# The cookiecutter extension is a module at the template root, as cookiecutter imports it.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

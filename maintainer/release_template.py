"""Release a version of the template: CHANGELOG.md's Unreleased section becomes the version's
section, and an annotated tag vX.Y.Z carries it.

    python3 tasks.py release 0.3.0     (then: git push origin HEAD v0.3.0)

Generated repositories record the tag they were made from (`_commit` in .copier-answers.yml);
copier, cruft and Renovate compare those tags. Standard library only.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
UNRELEASED = "## Unreleased\n"
NEXT = UNRELEASED + "\nNothing yet.\n\n"


class ReleaseError(Exception):
    """Why this release cannot be made, and what to do."""


def git(root: Path, *arguments: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout


def version_tags(root: Path) -> list[tuple[int, ...]]:
    tags = git(root, "tag", "--list", "v*").split()
    return sorted(tuple(map(int, match.groups())) for tag in tags if (match := VERSION.fullmatch(tag[1:])))


def unreleased_notes(changelog: str) -> str:
    """The Unreleased section's text, which must say something."""
    if UNRELEASED not in changelog:
        raise ReleaseError("CHANGELOG.md has no '## Unreleased' section: write what this version changes there")
    notes = changelog.split(UNRELEASED, 1)[1].split("\n## ", 1)[0].strip()
    if not notes or notes == "Nothing yet.":
        raise ReleaseError("the Unreleased section of CHANGELOG.md is empty: say what this version changes")
    return notes


def release(root: Path, version: str, today: datetime.date) -> str:
    """Commit the CHANGELOG for `version` and tag it; return the tag."""
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"{version!r} is not a version: write MAJOR.MINOR.PATCH, like 1.4.0")
    if git(root, "status", "--porcelain"):
        raise ReleaseError("the working tree has changes: commit or stash them first")
    tag = f"v{version}"
    latest = version_tags(root)[-1:]
    if latest and tuple(map(int, version.split("."))) <= latest[0]:
        raise ReleaseError(f"{tag} is not newer than the latest tag v{'.'.join(map(str, latest[0]))}")
    path = root / "CHANGELOG.md"
    changelog = path.read_text(encoding="utf-8")
    notes = unreleased_notes(changelog)
    path.write_text(changelog.replace(UNRELEASED, f"{NEXT}## {version} ({today.isoformat()})\n", 1), encoding="utf-8")
    git(root, "add", "CHANGELOG.md")
    git(root, "commit", "--quiet", "--message", f"Release {tag}")
    git(root, "tag", "--annotate", tag, "--message", f"{tag}\n\n{notes}")
    return tag


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent.parent
    try:
        tag = release(root, argv[0], datetime.date.today())
    except ReleaseError as problem:
        print(f"Cannot release: {problem}", file=sys.stderr)
        return 1
    print(f"Tagged {tag} with its CHANGELOG section. Publish it: git push origin HEAD {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

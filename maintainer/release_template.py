"""Release a version of the template: CHANGELOG.md's Unreleased section becomes the version's
section, and an annotated tag vX.Y.Z carries it.

    python3 tasks.py release 0.3.0     (then: git push origin HEAD v0.3.0)
    python3 tasks.py release 1.0.0 --imported-from UPSTREAM_URL
        an organization's first release of its own copy: CHANGELOG.md starts over with one entry
        naming the upstream repository and commit, so that upstream's notes, about versions the
        organization never had, are not presented as its own (docs/adopting.md)

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
UPSTREAM = re.compile(r"(https://|ssh://|git@)[A-Za-z0-9._~:/@%+-]+")
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


def require_identity(root: Path) -> None:
    """The commit and the annotated tag both need a name and an email: ask before changing anything."""
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = subprocess.run(["git", "-C", str(root), "var", variable], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ReleaseError(
                "git does not know who you are, which the release commit and tag record: run "
                'git config --global user.name "Your Name" and git config --global user.email you@example.com'
            )


def started_changelog(changelog: str, upstream: str, commit: str) -> str:
    """Upstream's preamble (what the versions mean), then one Unreleased entry of this copy."""
    preamble = changelog.split("\n## ", 1)[0].rstrip("\n")
    entry = (
        f"- First version of this organization's template, imported from {upstream} at commit"
        f" {commit[:12]}. What came before is upstream's history: its CHANGELOG.md at that commit."
    )
    return f"{preamble}\n\n{UNRELEASED}\n{entry}\n"


def release(root: Path, version: str, today: datetime.date, imported_from: str | None = None) -> str:
    """Commit the CHANGELOG for `version` and tag it; return the tag. On failure nothing is changed.
    With `imported_from`, the CHANGELOG starts over first (the organization's first release)."""
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"{version!r} is not a version: write MAJOR.MINOR.PATCH, like 1.4.0")
    if imported_from is not None and not UPSTREAM.fullmatch(imported_from):
        raise ReleaseError(f"--imported-from {imported_from!r} is not a git URL: give the https URL you imported from")
    if git(root, "status", "--porcelain"):
        raise ReleaseError("the working tree has changes: commit or stash them first")
    require_identity(root)
    tag = f"v{version}"
    latest = version_tags(root)[-1:]
    if latest and imported_from is not None:
        raise ReleaseError(
            f"--imported-from is for the first release, and v{'.'.join(map(str, latest[0]))} exists already: "
            "leave it out"
        )
    if latest and tuple(map(int, version.split("."))) <= latest[0]:
        raise ReleaseError(f"{tag} is not newer than the latest tag v{'.'.join(map(str, latest[0]))}")
    path = root / "CHANGELOG.md"
    changelog = path.read_text(encoding="utf-8")
    start = git(root, "rev-parse", "HEAD").strip()
    if imported_from is not None:
        changelog = started_changelog(changelog, imported_from, start)
    notes = unreleased_notes(changelog)
    path.write_text(changelog.replace(UNRELEASED, f"{NEXT}## {version} ({today.isoformat()})\n", 1), encoding="utf-8")
    try:
        git(root, "add", "CHANGELOG.md")
        git(root, "commit", "--quiet", "--message", f"Release {tag}")
        git(root, "tag", "--annotate", tag, "--message", f"{tag}\n\n{notes}")
    except ReleaseError:
        # The tree was clean before: going back to the starting commit undoes only this release.
        git(root, "reset", "--quiet", "--hard", start)
        raise
    return tag


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--imported-from"):
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent.parent
    try:
        tag = release(root, argv[0], datetime.date.today(), argv[2] if len(argv) == 3 else None)
    except ReleaseError as problem:
        print(f"Cannot release: {problem}", file=sys.stderr)
        return 1
    print(f"Tagged {tag} with its CHANGELOG section. Publish it: git push origin HEAD {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

{% raw -%}
#!/usr/bin/env python3
"""CI: keep the wheels Poetry built from locked git commits, so that a lock change rebuilds only
the dependencies whose commit moved. Standard library only.

    python3 scripts/private_wheels.py key
        One hash of the git commits poetry.lock pins (empty when it pins none): the cache key of
        the wheel store. A lock change that touches only index packages keeps it.

    python3 scripts/private_wheels.py restore --store DIR --artifacts DIR
        Copies the store's wheel of each locked commit into Poetry's artifact cache, where
        `poetry sync` finds it before any git operation; names the dependencies still to build.

    python3 scripts/private_wheels.py keep --store DIR --artifacts DIR
        Afterwards the store holds exactly the wheels of the commits poetry.lock pins: wheel
        files only, never a source tree or git data. Prints `complete=true` when every pin has
        its wheel there (the store is then worth saving), else `complete=false`.

Poetry (2.x) names the folder of a wheel built from git by a hash of the URL as poetry.lock
writes it, the resolved commit and the subdirectory (poetry/utils/cache.py,
ArtifactCache.get_cache_directory_for_git); the store keeps that hash as each wheel's folder name,
so a wheel is only ever found for the very commit it was built from.

Exit status: 0 done, 2 an unreadable poetry.lock or wrong usage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MARKER = ".created_from_git_dependency"  # Poetry's mark on a folder it built from git


def locked_pins(lock_path: Path) -> dict[str, str]:
    """Poetry's folder hash -> package name, for each package poetry.lock builds from a commit."""
    try:
        lock: Any = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as problem:
        print(f"error: cannot read {lock_path}: {problem}; fix: run poetry lock", file=sys.stderr)
        raise SystemExit(2) from None
    pins = {}
    packages = lock.get("package", [])
    for package in packages if isinstance(packages, list) else []:
        source = package.get("source") if isinstance(package, dict) else None
        if not isinstance(source, dict) or source.get("type") != "git":
            continue
        # Poetry keeps no wheel for a develop = true package or one without a resolved commit.
        if package.get("develop") or not isinstance(source.get("resolved_reference"), str):
            continue
        parts = {"url": source.get("url"), "ref": source["resolved_reference"]}
        if source.get("subdirectory"):
            parts["subdirectory"] = source["subdirectory"]
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        pins[hashlib.sha256(text.encode("ascii")).hexdigest()] = str(package.get("name", "?"))
    return pins


def artifact_folder(artifacts: Path, pin: str) -> Path:
    return artifacts / pin[:2] / pin[2:4] / pin[4:6] / pin[6:]


def wheels(folder: Path) -> list[Path]:
    """The wheel files of a folder: regular files only, a link could point anywhere."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.whl") if path.is_file() and not path.is_symlink())


def restore(pins: dict[str, str], store: Path, artifacts: Path) -> list[str]:
    """The names of the pins with no wheel in the store; the others' wheels now in artifacts."""
    missing = []
    for pin, name in pins.items():
        found = wheels(store / pin)
        if not found:
            missing.append(name)
            continue
        target = artifact_folder(artifacts, pin)
        target.mkdir(parents=True, exist_ok=True)
        for wheel in found:
            shutil.copyfile(wheel, target / wheel.name)
        (target / MARKER).touch()
    return missing


def keep(pins: dict[str, str], store: Path, artifacts: Path) -> bool:
    """The store holds the wheels of exactly these pins; True when each has one."""
    store.mkdir(parents=True, exist_ok=True)
    for entry in store.iterdir():  # a commit the lock no longer pins, or anything else
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink()
        elif entry.name not in pins:
            shutil.rmtree(entry)
    for pin in pins:
        built = artifact_folder(artifacts, pin)
        if wheels(store / pin) or not (built / MARKER).is_file():
            continue
        for wheel in wheels(built):
            (store / pin).mkdir(exist_ok=True)
            shutil.copyfile(wheel, store / pin / wheel.name)
    return all(wheels(store / pin) for pin in pins)


def main(argv: Sequence[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    top.add_argument("command", choices=["key", "restore", "keep"])
    top.add_argument("--lock", type=Path, default=Path("poetry.lock"), help="the lock file")
    top.add_argument("--store", type=Path, help="the wheel store (restore, keep)")
    top.add_argument("--artifacts", type=Path, help="Poetry's artifact cache (restore, keep)")
    args = top.parse_args(argv)
    pins = locked_pins(args.lock)
    if args.command == "key":
        print(hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest() if pins else "")
        return 0
    if args.store is None or args.artifacts is None:
        top.error(f"{args.command} needs --store DIR and --artifacts DIR")
    if args.command == "restore":
        missing = restore(pins, args.store, args.artifacts)
        print(f"{len(pins) - len(missing)} of {len(pins)} wheels restored", file=sys.stderr)
        if missing:
            print(f"to build: {', '.join(sorted(missing))}", file=sys.stderr)
        return 0
    complete = keep(pins, args.store, args.artifacts)
    print(f"complete={'true' if complete else 'false'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
{% endraw -%}

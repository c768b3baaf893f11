{% raw -%}
#!/usr/bin/env python3
"""Take a newer version of the project template. Standard library only (`source` excepted).

    python3 scripts/template_update.py [update] [COPIER_OPTIONS...]
        A person: `copier update --skip-answered --conflict inline` with the options given
        (recorded answers are kept; only new questions are asked), then every file left with
        conflict markers, and exit status 1 while any remain. When the update wrote inside .git,
        which a template must never do, it puts .git back as it was and stops, naming the files.

The scheduled workflow .github/workflows/template-update.yml runs one subcommand per job:

    source    no secret: the template repository, from .copier-answers.yml read with copier's
              own YAML library (run it with copier's Python)
    fetch     read-only token, git only: the newest vX.Y.Z tag and the template's history, as
              a git bundle for the next job
    render    no secret at all: copier on local copies of the template and of this repository;
              the result is a patch. Fails, naming the files, when .git changed beyond what
              git itself writes there.
    apply     before any write token: `git apply` of that patch on a fresh checkout (git refuses
              paths inside .git and writes beyond symbolic links), the conflicted files read
              from what it applied, the pull request's title and text
    propose   with the write token: commit, push the branch, open the pull request; git with
              fsmonitor and hooks off, nothing from the template run

Exit status: 0 done (or nothing to do), 1 conflicts remain or the update failed, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# git that runs nothing a repository's own settings name: no fsmonitor program, no hooks.
GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
ANSWERS = Path(".copier-answers.yml")
VERSION_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
# What git's own commands write inside .git while copier updates and stages; anything else
# (config, hooks, info, ...) changed means the template wrote there.
GIT_WRITES = re.compile(
    r"(index|ORIG_HEAD|FETCH_HEAD|AUTO_MERGE|MERGE_\w+|COMMIT_EDITMSG|packed-refs|(objects|refs|logs)/.+)"
)
CONFLICT_START, CONFLICT_END = re.compile(rb"^<{7}( |$)", re.M), re.compile(rb"^>{7}( |$)", re.M)
PATCH_FILE, TEMPLATE_BUNDLE, PROJECT_TAR = "update.patch", "template.bundle", "project.tar"


class Stop(Exception):
    """A one-line reason to stop, printed as an error."""


def error(message: str) -> None:
    prefix = "::error title=Template update::" if os.environ.get("GITHUB_ACTIONS") else "error: "
    print(f"{prefix}{message}", file=sys.stdout if prefix.startswith("::") else sys.stderr)


def git(
    *arguments: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run([*GIT, *arguments], cwd=cwd, capture_output=True)
    if check and result.returncode != 0:
        raise Stop(f"git {arguments[0]} failed: {result.stderr.decode(errors='replace').strip()}")
    return result


def output(**values: str) -> None:
    """Step outputs for the workflow (nothing when run by hand)."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as out:
            for name, value in values.items():
                print(f"{name}={value}", file=out)


def safe_git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with fsmonitor and hooks off for every git command (copier's too), plus
    `extra` settings; GIT_CONFIG_COUNT entries win over every configuration file."""
    env = dict(os.environ)
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    settings = {"core.fsmonitor": "false", "core.hooksPath": "/dev/null", **(extra or {})}
    for key, value in settings.items():
        env[f"GIT_CONFIG_KEY_{count}"], env[f"GIT_CONFIG_VALUE_{count}"] = key, value
        count += 1
    env["GIT_CONFIG_COUNT"] = str(count)
    return env


# --- .git as it was ---------------------------------------------------------------------------


def snapshot(repository: Path) -> dict[str, bytes]:
    """Every file and symbolic link inside .git (objects aside): its content, or link target."""
    root, found = repository / ".git", {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if not relative.startswith("objects/"):
                found[relative] = (
                    (b"link:" + os.readlink(path).encode())
                    if path.is_symlink()
                    else path.read_bytes()
                )
    return found


def git_dir_changes(repository: Path, before: dict[str, bytes]) -> list[str]:
    after = snapshot(repository)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    return sorted(f".git/{name}" for name in changed if not GIT_WRITES.fullmatch(name))


def restore(repository: Path, before: dict[str, bytes], changes: list[str]) -> None:
    for name in (change.removeprefix(".git/") for change in changes):
        path = repository / ".git" / name
        if path.is_symlink() or path.exists():
            path.unlink()
        if name in before:
            path.parent.mkdir(parents=True, exist_ok=True)
            if before[name].startswith(b"link:"):
                path.symlink_to(before[name].removeprefix(b"link:").decode())
            else:
                path.write_bytes(before[name])


def run_copier(
    repository: Path, arguments: list[str], extra_git: dict[str, str] | None = None
) -> None:
    """copier update in `repository`; stops when it changed .git (put back as it was)."""
    if shutil.which("copier") is None:
        raise Stop("copier is not installed: pipx install copier")
    before = snapshot(repository)
    result = subprocess.run(
        ["copier", "update", *arguments], cwd=repository, env=safe_git_env(extra_git)
    )
    changes = git_dir_changes(repository, before)
    restore(repository, before, changes)
    if changes:
        raise Stop(
            f"the template wrote inside .git ({', '.join(changes)}), which can make git run its "
            "programs: put back as before. Do not take this template version; tell its maintainers"
        )
    if result.returncode != 0:
        raise Stop(f"copier update failed (exit status {result.returncode})")


def unmerged(repository: Path) -> list[str]:
    names = git("diff", "--name-only", "--diff-filter=U", "-z", cwd=repository).stdout.decode()
    return sorted(set(filter(None, names.split("\0"))))


# --- subcommands ------------------------------------------------------------------------------


def run_update(copier_options: list[str]) -> int:
    repository = Path.cwd()
    run_copier(repository, ["--skip-answered", "--conflict", "inline", *copier_options])
    conflicts = unmerged(repository)
    if conflicts:
        print(
            f"Conflicts in {len(conflicts)} file(s): resolve the <<<<<<< markers, then `git add`:"
        )
        print("\n".join(f"  {name}" for name in conflicts))
        return 1
    print("No conflicts: review `git diff`; if pyproject.toml changed, run `poetry lock`; commit.")
    return 0


def run_source(args: argparse.Namespace) -> int:
    # copier's own YAML library, from copier's environment: the project does not depend on it.
    yaml: Any = importlib.import_module("yaml")

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
            twice = sorted({str(key) for key in keys if keys.count(key) > 1})
            if twice:
                raise Stop(f"{ANSWERS} gives {', '.join(twice)} more than once: keep one of each")
            return super().construct_mapping(node, deep=deep)

    if not ANSWERS.is_file():
        raise Stop(f"{ANSWERS} does not exist: the repository records no template to update from")
    try:
        answers = yaml.load(ANSWERS.read_text(encoding="utf-8"), Loader=Loader)
    except yaml.YAMLError as problem:
        raise Stop(f"{ANSWERS} is not valid YAML: {str(problem).splitlines()[0]}") from None
    source = answers.get("_src_path") if isinstance(answers, dict) else None
    if not isinstance(source, str):
        raise Stop(f"{ANSWERS} has no _src_path: it records no template to update from")
    server = args.server_url.rstrip("/")
    path = re.sub(r"^gh:", "", source) if server == "https://github.com" else source
    path = re.sub(rf"^(git\+)?{re.escape(server)}/", "", path)
    match = re.fullmatch(r"([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(\.git)?/?", path)
    if not match:
        raise Stop(
            f"the template source {source!r} is not a repository on {server}: "
            f"set it to {server}/<org>/<template>.git"
        )
    owner, repository = match.group(1), match.group(2)
    if owner.lower() != args.owner.lower():
        raise Stop(
            f"the template belongs to {owner!r}, not to this organization; "
            "one GitHub App token cannot read it"
        )
    output(repository=repository, url=f"{server}/{owner}/{repository}.git")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    listed = git("ls-remote", "--tags", "--refs", "--", args.url, "v*", check=False)
    if listed.returncode != 0:
        raise Stop(
            f"cannot read the tags of {args.url}: install the GitHub App on the template "
            "repository too, with Contents access"
        )
    tags = [line.rpartition("refs/tags/")[2] for line in listed.stdout.decode().splitlines()]
    found = [(VERSION_TAG.fullmatch(tag), tag) for tag in tags]
    versions = sorted((tuple(map(int, match.groups())), tag) for match, tag in found if match)
    if not versions:
        raise Stop(f"the template at {args.url} has no vMAJOR.MINOR.PATCH tag")
    latest = versions[-1][1]
    args.into.mkdir(parents=True, exist_ok=True)
    clone = args.into / "template.git"
    git("clone", "--quiet", "--bare", "--", args.url, str(clone))
    git("bundle", "create", str((args.into / TEMPLATE_BUNDLE).resolve()), "--all", cwd=clone)
    shutil.rmtree(clone)
    print(f"Newest template version: {latest}")
    output(version=latest)
    return 0


def run_render(args: argparse.Namespace) -> int:
    work = args.work.resolve()
    template, project = work / "template.git", work / "project"
    git("clone", "--quiet", "--bare", "--", str(args.sources / TEMPLATE_BUNDLE), str(template))
    project.mkdir(parents=True)
    with tarfile.open(args.sources / PROJECT_TAR) as archive:
        archive.extractall(project, filter="data")  # refuses absolute paths and links outside
    git("init", "--quiet", "-b", "main", cwd=project)
    git("add", "--all", cwd=project)
    identity = ["-c", "user.name=Template update", "-c", "user.email=template-update@localhost"]
    git(
        *identity,
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "Before the template update",
        cwd=project,
    )
    # copier clones the recorded https URL: git reads it from the local copy instead, offline.
    # The rule rewrites the URL's stem, so `<stem>` and `<stem>.git` both find the copy.
    (work / "template").symlink_to(template.name)
    stem = args.url.removesuffix(".git")
    run_copier(
        project,
        ["--defaults", "--conflict", "inline", "--vcs-ref", args.version],
        {f"url.{work / 'template'}.insteadOf": stem},
    )
    conflicts = unmerged(project)
    git("add", "--all", cwd=project)  # conflicted files too: a diff of unmerged paths is combined
    patch = git("diff", "--cached", "--binary", "--no-color", "--no-ext-diff", cwd=project).stdout
    args.patch.parent.mkdir(parents=True, exist_ok=True)
    args.patch.write_bytes(patch)
    print(f"Rendered {args.version}: {len(patch)} bytes, {len(conflicts)} file(s) with conflicts")
    return 0


def code(name: str) -> str:
    """A file name as Markdown code, whatever characters it holds."""
    shown = json.dumps(name, ensure_ascii=False)[1:-1]
    return f"`` {shown} ``" if "`" in shown else f"`{shown}`"


def run_apply(args: argparse.Namespace) -> int:
    # git apply refuses paths inside .git (any case, any depth) and writes beyond symbolic links.
    if args.patch.stat().st_size == 0:
        print(f"Already on template {args.version}; nothing to propose.")
        output(changed="false")
        return 0
    git("apply", "--index", "--binary", "--whitespace=nowarn", "--", str(args.patch.resolve()))
    names = git(
        "diff", "--cached", "--name-only", "--no-renames", "--diff-filter=d", "-z"
    ).stdout.decode()
    conflicts = []
    for name in sorted(filter(None, names.split("\0"))):
        blob = git("cat-file", "blob", f":{name}").stdout
        if b"\0" not in blob and CONFLICT_START.search(blob) and CONFLICT_END.search(blob):
            conflicts.append(name)
    title = f"Update from the project template {args.version}"
    lines = [
        f"Updates this repository to version {args.version} of its project template.",
        "See the template's CHANGELOG.md for what the version changes.",
        "",
    ]
    if conflicts:
        title += f" (conflicts in {len(conflicts)} file{'s' if len(conflicts) > 1 else ''})"
        lines.append(
            "**Conflicts to resolve before merging** (committed as they are, nothing lost):"
        )
        lines.append("")
        lines += [f"- {code(name)}" for name in conflicts]
        lines += ["", "Search those files for `<<<<<<<` markers and resolve them before merging."]
    else:
        lines.append("No conflicts: every local change merged with the template's.")
    lines += ["", "If `pyproject.toml` changed, run `poetry lock` and commit `poetry.lock`."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "title.txt").write_text(title, encoding="utf-8")
    (args.out / "body.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(title)
    output(changed="true", conflicts=str(len(conflicts)))
    return 0


def api(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The REST API of this server with the write token, as JSON."""
    request = urllib.request.Request(
        os.environ["GITHUB_API_URL"].rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"token {os.environ['WRITE_TOKEN']}",
            "Accept": "application/vnd.github+json",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as failure:
        detail = json.loads(failure.read() or b"{}").get("message", "")
        raise Stop(f"{method} {path} failed: HTTP {failure.code} {detail}") from None


def run_propose(args: argparse.Namespace) -> int:
    branch = f"template-update/{args.version}"
    # An existing branch may hold someone's conflict resolution: never overwrite it.
    found = git(
        "ls-remote", "--exit-code", "--heads", "origin", f"refs/heads/{branch}", check=False
    )
    if found.returncode == 0:
        print(f"::notice title=Template update::{branch} already exists; review its pull request.")
        return 0
    title = (args.out / "title.txt").read_text(encoding="utf-8")
    body = (args.out / "body.md").read_text(encoding="utf-8")
    bot = f"{args.app_slug}[bot]"
    bot_id = api("GET", f"/users/{urllib.parse.quote(bot)}")["id"]
    email = f"{bot_id}+{bot}@{args.noreply}"
    identity = ["-c", f"user.name={bot}", "-c", f"user.email={email}"]
    git(*identity, "commit", "--quiet", "--no-verify", "-m", title)
    git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    repository = os.environ["GITHUB_REPOSITORY"]
    pull = {"title": title, "head": branch, "base": args.base, "body": body}
    opened = api("POST", f"/repos/{repository}/pulls", pull)
    print(f"Opened {opened['html_url']}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command")
    source = commands.add_parser("source")
    source.add_argument("--server-url", required=True)
    source.add_argument("--owner", required=True)
    source.set_defaults(run=run_source)
    fetch = commands.add_parser("fetch")
    fetch.add_argument("--url", required=True)
    fetch.add_argument("--into", type=Path, required=True)
    fetch.set_defaults(run=run_fetch)
    render = commands.add_parser("render")
    for name in ("--url", "--version"):
        render.add_argument(name, required=True)
    for name in ("--sources", "--work", "--patch"):
        render.add_argument(name, type=Path, required=True)
    render.set_defaults(run=run_render)
    apply = commands.add_parser("apply")
    apply.add_argument("--version", required=True)
    apply.add_argument("--patch", type=Path, required=True)
    apply.add_argument("--out", type=Path, required=True)
    apply.set_defaults(run=run_apply)
    propose = commands.add_parser("propose")
    for name in ("--version", "--app-slug", "--noreply", "--base"):
        propose.add_argument(name, required=True)
    propose.add_argument("--out", type=Path, required=True)
    propose.set_defaults(run=run_propose)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    workflow = {"source", "fetch", "render", "apply", "propose", "-h", "--help"}
    try:
        if not arguments or arguments[0] not in workflow:
            # A person's update: every other argument goes to copier as it is.
            return run_update(arguments[1:] if arguments[:1] == ["update"] else arguments)
        args = parser().parse_args(arguments)
        return int(args.run(args))
    except Stop as stop:
        error(str(stop))
        return 1


if __name__ == "__main__":
    sys.exit(main())
{% endraw -%}

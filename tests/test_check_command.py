"""The check command's parsing and diagnosis on their own; the server tests cover git itself."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from support import render


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    project = render("cookiecutter", tmp_path_factory.mktemp("check"), {}).path
    spec = importlib.util.spec_from_file_location("check_private_deps", project / "scripts" / "check_private_deps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("requirement", "url", "ref", "kind"),
    [
        ("lib @ git+https://host/org/lib.git@v1.0", "https://host/org/lib.git", "v1.0", "ref"),
        ("lib @ git+https://host/org/lib.git@v1.0#subdirectory=x", "https://host/org/lib.git", "v1.0", "ref"),
        (
            "lib[x] @ git+https://host/org/lib.git@0123abcd ; python_version > '3'",
            "https://host/org/lib.git",
            "0123abcd",
            "rev",
        ),
        ("lib @ git+ssh://git@host/org/lib.git", "ssh://git@host/org/lib.git", "", ""),
        ("lib @ git+ssh://git@host/org/lib.git@main", "ssh://git@host/org/lib.git", "main", "ref"),
    ],
)
def test_pep508_git_references_keep_user_and_ref_apart(
    check: ModuleType, requirement: str, url: str, ref: str, kind: str
) -> None:
    (dep,) = check.git_dependencies({"project": {"dependencies": [requirement]}})
    assert (dep.name, dep.url, dep.ref, dep.ref_kind) == ("lib", url, ref, kind)


def test_poetry_tables_of_every_group_are_read(check: ModuleType) -> None:
    pyproject = {
        "tool": {
            "poetry": {
                "dependencies": {"a": {"git": "https://h/o/a.git", "tag": "v1"}, "requests": "^2"},
                "group": {"dev": {"dependencies": {"b": [{"git": "https://h/o/b.git", "branch": "main"}]}}},
            }
        }
    }
    deps = check.git_dependencies(pyproject)
    assert [(d.name, d.repository, d.ref_kind) for d in deps] == [("a", "o/a", "tag"), ("b", "o/b", "branch")]


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("fatal: unable to access 'https://ssl.corp/o/x.git/': Could not resolve host: ssl.corp", "host unreachable"),
        ("fatal: unable to access: SSL certificate problem: self-signed certificate", "TLS"),
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", "no credentials"),
        ("remote: Repository not found.\nfatal: repository 'https://h/o/x.git/' not found", "not found"),
        ("fatal: Authentication failed for 'https://h/o/x.git/'", "denied"),
        ("fatal: https://user:hunter2@h/o/x.git exploded", "git failed: fatal: https://***@h/o/x.git exploded"),
    ],
)
def test_each_git_failure_gets_its_own_reason(check: ModuleType, stderr: str, reason: str) -> None:
    dep = check.Dependency("x", "https://ssl.corp/o/x.git", "v1", "tag")
    found, fix = check.diagnose(dep, 128, stderr)
    assert found.startswith(reason) and fix
    assert "hunter2" not in found + fix


def test_app_repositories_are_read_from_pyproject_and_other_owners_refused(
    check: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    deps = [check.Dependency(n, f"https://h/{n}.git", "v1", "tag") for n in ("acme/b", "acme/a")]
    assert check.list_repositories(deps, "acme") == 0
    assert capsys.readouterr().out.strip() == "a,b"
    assert check.list_repositories([*deps, check.Dependency("c", "https://h/other/c.git", "", "")], "acme") == 1
    assert "other/c" in capsys.readouterr().err

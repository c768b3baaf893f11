"""What a person at an 80-column terminal sees while answering the questions, in each engine.

Stock copier (copier alone, no --trust) and cookiecutter run in a pseudo-terminal of 24 rows and
80 columns (pexpect), typed at as a person types; pyte plays the terminal (it also answers the
cursor-position queries that copier's prompts send, as a real terminal does) and the tests read
its screen.

- copier asks a bad text answer again, with the template's whole reason on one line; offers a
  GitHub App disabled, with its reason, when a dependency lives in another organization; asks
  for index credentials only with an index URL; and shows every line of every help uncut.
- cookiecutter shows every character of each help in its prompts, and after the last question
  asks each bad answer again with its reason, writing nothing until all pass.
"""

from __future__ import annotations

import os
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pyte
import pytest
import yaml
from support import BIN, ROOT, TREE
from support.bad_values import BAD_ANSWERS, ENGINE, GOOD_ANSWERS, Bad
from support.engines import STOCK_COPIER

ROWS, COLUMNS = 24, 80
ENTER, UP, DOWN = "\r", "\x1b[A", "\x1b[B"
# Ctrl-U empties the line; copier's prompts start filled with the default.
CLEAR = "\x15"
# copier's mark before each question.
ASKS = "🎤 "

QUESTIONS = {
    name: spec
    for name, spec in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_") and spec.get("when") is not False
}
TEXT_QUESTIONS_WITH_A_RULE = [
    name for name, spec in QUESTIONS.items() if spec["type"] == "str" and "choices" not in spec and "validator" in spec
]


def typeable(value: object) -> bool:
    """Text a person can type at a prompt: control characters are keys (Enter, Backspace), not text."""
    return isinstance(value, str) and all(unicodedata.category(ch) != "Cc" for ch in value)


def first_typeable_bad_answers() -> dict[str, Bad]:
    """Per text question, the first bad answer of the table with the rules' own reason."""
    chosen: dict[str, Bad] = {}
    for bad in BAD_ANSWERS:
        if bad.question in TEXT_QUESTIONS_WITH_A_RULE and bad.reason != ENGINE and not bad.others:
            if typeable(bad.value):
                chosen.setdefault(bad.question, bad)
    return chosen


class Terminal:
    """A program in a 24x80 pseudo-terminal, and the screen a person sees of it."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        # Every row shown at any moment, for what must never appear.
        self.seen: set[str] = set()
        self.child = pexpect.spawn(command[0], command[1:], cwd=str(cwd), env=env, dimensions=(ROWS, COLUMNS))
        # The terminal's replies (copier's prompts ask where the cursor is) go back as input.
        self.screen.write_process_input = self.child.send

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    def text(self) -> str:
        """The rows run together, so that a line the terminal wrapped reads unbroken (for output
        of single-width characters)."""
        return "".join(row.ljust(COLUMNS) for row in self.screen.display)

    def show(self) -> str:
        return "\n".join(self.rows())

    def type(self, keys: str) -> None:
        self.child.send(keys.encode())

    def _read(self, timeout: float) -> bool | None:
        """Put on the screen what the program writes within `timeout`: whether it wrote, or None
        once it has ended."""
        try:
            self.stream.feed(self.child.read_nonblocking(65536, timeout))
        except pexpect.TIMEOUT:
            return False
        except pexpect.EOF:
            return None
        self.seen.update(self.rows())
        return True

    def wait_for(self, condition: Callable[[list[str]], bool], what: str, timeout: float = 30) -> list[str]:
        """The screen's rows once `condition` holds for them and the program has stopped drawing."""
        deadline = time.monotonic() + timeout
        wrote: bool | None = False
        while not condition(self.rows()):
            if wrote is None or time.monotonic() > deadline:
                raise AssertionError(f"waited for {what}; the screen shows:\n{self.show()}")
            wrote = self._read(0.05)
        # Until the program has been quiet for a moment: a screen can come in several writes.
        while wrote is not None and (wrote := self._read(0.05)):
            pass
        return self.rows()

    def comes_to_show(self, condition: Callable[[list[str]], bool], timeout: float = 3) -> bool:
        """Whether `condition` comes to hold for the screen within `timeout`."""
        try:
            self.wait_for(condition, "", timeout)
        except AssertionError:
            return False
        return True

    def finish(self, timeout: float = 60) -> int | None:
        """The exit status, once the program has ended (None if a signal ended it)."""
        deadline = time.monotonic() + timeout
        while self._read(0.1) is not None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not end; the screen shows:\n{self.show()}")
        self.child.close()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.close(force=True)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Starts programs as a person's shell would: a fresh HOME and temp dir, a UTF-8 locale, an
    xterm of 24x80 (the size comes from the terminal: no COLUMNS or LINES)."""
    terminals: list[Terminal] = []
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()

    def start(command: list[str], cwd: Path, **env: str) -> Terminal:
        environment = {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "TMPDIR": str(temp),
            "TERM": "xterm",
            "LANG": "C.UTF-8",
            **env,
        }
        terminal = Terminal(command, cwd, environment)
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()


# --- copier ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def copier_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as a plain directory: copier reads it without git, so no warning about
    uncommitted changes shares the screen with the questions."""
    root = tmp_path_factory.mktemp("template")
    shutil.copy(ROOT / "copier.yml", root)
    shutil.copytree(ROOT / "templates", root / "templates")
    shutil.copytree(TREE, root / TREE.name)
    return root


def start_copier(spawn: Callable[..., Terminal], template: Path, tmp_path: Path) -> Terminal:
    return spawn([str(STOCK_COPIER), "copy", str(template), str(tmp_path / "project")], cwd=tmp_path)


def asking(name: str) -> Callable[[list[str]], bool]:
    """The last question on the screen is `name` (known by the start of its help)."""
    start = (ASKS + QUESTIONS[name]["help"].splitlines()[0])[:40]

    def condition(rows: list[str]) -> bool:
        asked = [row for row in rows if row.startswith(ASKS)]
        return bool(asked) and asked[-1].startswith(start)

    return condition


def copier_asks(terminal: Terminal, not_asked: set[str] | None = None) -> Iterator[str]:
    """Each question copier.yml defines, in order, once copier asks it; a question in
    `not_asked` must be skipped (the next one asked instead)."""
    for name in QUESTIONS:
        if name not in (not_asked or set()):
            terminal.wait_for(asking(name), f"copier to ask {name}")
            yield name


def validation_error(rows: list[str]) -> str | None:
    errors = [row for row in rows if row.startswith("Validation error for question")]
    return errors[-1] if errors else None


def copier_answers(tmp_path: Path) -> dict[str, object]:
    return yaml.safe_load((tmp_path / "project" / ".copier-answers.yml").read_text())


def test_copier_asks_a_bad_text_answer_again_with_the_whole_reason_on_one_line(
    spawn: Callable[..., Terminal], copier_template: Path, tmp_path: Path
) -> None:
    """One bad answer per text question (tests/test_answers.py holds the table to the rules):
    the reason's line fits 80 columns whole, and the good answer typed next is taken."""
    bad_answers = first_typeable_bad_answers()
    assert sorted(bad_answers) == sorted(TEXT_QUESTIONS_WITH_A_RULE), "a text question has no typeable bad answer"
    good = {name: GOOD_ANSWERS[name][0] for name in bad_answers}
    terminal = start_copier(spawn, copier_template, tmp_path)
    shown, expected = {}, {}
    for name in copier_asks(terminal, not_asked={"package_index_credentials"}):
        assert validation_error(terminal.rows()) is None, terminal.show()
        if name not in bad_answers:
            terminal.type(ENTER)
            continue
        bad = bad_answers[name]
        expected[name] = f"Validation error for question '{name}': {bad.reason}"
        terminal.type(CLEAR + str(bad.value) + ENTER)
        terminal.wait_for(validation_error, f"copier to reject {bad}", timeout=15)
        terminal.comes_to_show(lambda rows, line=expected[name]: line in rows)
        shown[name] = validation_error(terminal.rows())
        assert asking(name)(terminal.rows()), f"copier did not ask {name} again:\n{terminal.show()}"
        terminal.type(CLEAR + str(good[name]) + ENTER)
    assert shown == expected
    assert terminal.finish() == 0, terminal.show()
    answers = copier_answers(tmp_path)
    assert {name: answers[name] for name in good} == good


def test_copier_offers_a_github_app_disabled_with_its_reason_for_a_dependency_in_another_org(
    spawn: Callable[..., Terminal], copier_template: Path, tmp_path: Path
) -> None:
    """copier runs no validator on a choice's answer: the App is a disabled choice instead, and
    the arrow keys pass over it."""
    bad = next(bad for bad in BAD_ANSWERS if bad.question == "git_auth" and bad.reason != ENGINE)
    dependencies = bad.others["private_dependencies"]
    disabled_row = f"   - {bad.value} ({bad.reason})"
    terminal = start_copier(spawn, copier_template, tmp_path)
    # ssh needs no token secret; without an index URL no index credentials are asked.
    for name in copier_asks(terminal, not_asked={"token_secret_name", "package_index_credentials"}):
        if name == "private_dependencies":
            terminal.type(CLEAR + dependencies + ENTER)
        elif name == "git_auth":
            rows = terminal.wait_for(lambda rows: " » token" in rows, "the auth modes")
            assert disabled_row in rows, terminal.show()
            terminal.type(DOWN)
            rows = terminal.wait_for(lambda rows: " » token" not in rows, "the pointer to move")
            assert " » ssh" in rows and disabled_row in rows, terminal.show()
            terminal.type(UP)
            rows = terminal.wait_for(lambda rows: " » ssh" not in rows, "the pointer to move back")
            assert " » token" in rows, terminal.show()
            terminal.type(DOWN + ENTER)
        else:
            terminal.type(ENTER)
    assert terminal.finish() == 0, terminal.show()
    answers = copier_answers(tmp_path)
    assert answers["git_auth"] == "ssh" and answers["private_dependencies"] == dependencies
    assert bad.value not in (tmp_path / "project" / ".copier-answers.yml").read_text()


CREDENTIALS = "package_index_credentials"
INDEX_URL = "https://mirror.example.com/simple"


def test_copier_never_asks_for_index_credentials_without_an_index_url(
    spawn: Callable[..., Terminal], copier_template: Path, tmp_path: Path
) -> None:
    terminal = start_copier(spawn, copier_template, tmp_path)
    # After the empty index URL, copier goes on to the next question.
    for _ in copier_asks(terminal, not_asked={CREDENTIALS}):
        terminal.type(ENTER)
    assert terminal.finish() == 0, terminal.show()
    credentials = QUESTIONS[CREDENTIALS]["help"].splitlines()[0]
    assert not [row for row in terminal.seen if credentials in row]
    answers = copier_answers(tmp_path)
    assert answers["package_index_url"] == "" and CREDENTIALS not in answers
    assert (tmp_path / "project" / "pyproject.toml").is_file()


def test_copier_asks_for_index_credentials_with_an_index_url(
    spawn: Callable[..., Terminal], copier_template: Path, tmp_path: Path
) -> None:
    terminal = start_copier(spawn, copier_template, tmp_path)
    keys = {"package_index_url": CLEAR + INDEX_URL + ENTER, CREDENTIALS: "y"}
    for name in copier_asks(terminal):
        terminal.type(keys.get(name, ENTER))
    assert terminal.finish() == 0, terminal.show()
    answers = copier_answers(tmp_path)
    assert answers["package_index_url"] == INDEX_URL and answers[CREDENTIALS] is True


def test_copier_shows_every_line_of_every_help_uncut_at_80_columns(
    spawn: Callable[..., Terminal], copier_template: Path, tmp_path: Path
) -> None:
    """copier prints each line of a help as it is and cuts it at the terminal's edge; the
    question line starts with its mark."""
    terminal = start_copier(spawn, copier_template, tmp_path)
    cut = []
    for name in copier_asks(terminal):
        lines = QUESTIONS[name]["help"].splitlines()
        wanted = [ASKS + lines[0], *lines[1:]]
        if not terminal.comes_to_show(lambda rows, wanted=wanted: all(line.rstrip() in rows for line in wanted)):
            cut += [f"{name}: {line}" for line in wanted if line.rstrip() not in terminal.rows()]
        terminal.type(CLEAR + INDEX_URL + ENTER if name == "package_index_url" else ENTER)
    assert not cut, "help lines not shown whole at 80 columns:\n" + "\n".join(cut)
    assert terminal.finish() == 0, terminal.show()


# --- cookiecutter -----------------------------------------------------------------------------


def cookiecutter_config(tmp_path: Path) -> Path:
    """A config of this test alone: the replay file it corrects is its own."""
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(
        yaml.safe_dump({"cookiecutters_dir": str(tmp_path / "templates"), "replay_dir": str(tmp_path / "replay")})
    )
    return config


def start_cookiecutter(spawn: Callable[..., Terminal], tmp_path: Path, workdir: Path) -> Terminal:
    command = [str(BIN / "cookiecutter"), str(ROOT)]
    return spawn(command, cwd=workdir, COOKIECUTTER_CONFIG=str(cookiecutter_config(tmp_path)))


def cookiecutter_asks(terminal: Terminal) -> Iterator[tuple[str, str]]:
    """Each question in order once cookiecutter asks it (cookiecutter asks them all), with the
    prompt's text as shown, its rows run together (Rich wraps it at the terminal's width)."""
    for number, name in enumerate(QUESTIONS, start=1):
        mark = f"  [{number}/{len(QUESTIONS)}] "
        # A prompt ends with its default, "(...):", and waits there.
        rows = terminal.wait_for(
            lambda rows, mark=mark: (
                any(row.startswith(mark) for row in rows) and [row for row in rows if row][-1].endswith("):")
            ),
            f"cookiecutter to ask {name}",
        )
        start = max(index for index, row in enumerate(rows) if row.startswith(mark))
        yield name, " ".join(" ".join(rows[start:]).split()).removeprefix(mark.strip() + " ")


def test_cookiecutter_prompts_show_every_character_of_each_help(spawn: Callable[..., Terminal], tmp_path: Path) -> None:
    """cookiecutter prints its prompts with Rich, which would read `[org/]` as markup."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    terminal = start_cookiecutter(spawn, tmp_path, workdir)
    mangled = {}
    for name, prompt in cookiecutter_asks(terminal):
        help_text = " ".join(QUESTIONS[name]["help"].split())
        if not prompt.startswith(help_text):
            mangled[name] = (help_text, prompt)
        terminal.type(ENTER)
    assert mangled == {}
    assert terminal.finish() == 0, terminal.show()


def test_cookiecutter_asks_each_bad_typed_answer_again_with_its_reason(
    spawn: Callable[..., Terminal], tmp_path: Path
) -> None:
    """As copier does, though after the last question (cookiecutter asks them all first): each
    bad answer again with the template's reason, nothing written until all pass, no traceback;
    the derived package_name follows the corrected slug."""
    app = next(bad for bad in BAD_ANSWERS if bad.question == "git_auth" and bad.reason != ENGINE)
    modes = [spec if isinstance(spec, str) else spec["value"] for spec in QUESTIONS["git_auth"]["choices"].values()]
    typed = {
        "project_slug": "Billing Service",
        "private_dependencies": app.others["private_dependencies"],
        "git_auth": str(modes.index(app.value) + 1),
    }
    workdir = tmp_path / "work"
    workdir.mkdir()
    terminal = start_cookiecutter(spawn, tmp_path, workdir)
    for name, _ in cookiecutter_asks(terminal):
        terminal.type(typed.get(name, "") + ENTER)

    def asked_again(reason: str) -> Callable[[list[str]], bool]:
        return lambda rows: reason in terminal.text() and [row for row in rows if row][-1].endswith(":")

    terminal.wait_for(asked_again("  project_slug = 'Billing Service': has a space: use - between words"), "the slug")
    assert list(workdir.iterdir()) == []
    terminal.type("billing-service" + ENTER)
    terminal.wait_for(asked_again(f"  git_auth = {app.value!r}: {app.reason}"), "the auth mode")
    assert "package_name = " not in terminal.text(), "package_name follows the slug: not asked"
    terminal.type(str(modes.index("token") + 1) + ENTER)
    assert terminal.finish() == 0, terminal.show()
    assert not any("Traceback" in row for row in terminal.seen), terminal.show()
    answers = yaml.safe_load((workdir / "billing-service" / ".copier-answers.yml").read_text())
    assert (answers["project_slug"], answers["package_name"], answers["git_auth"]) == (
        "billing-service",
        "billing_service",
        "token",
    )

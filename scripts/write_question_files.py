"""Write cookiecutter.json and copier.yml from template_rules.QUESTIONS.

Run after changing a question; `--check` (used by the tests) fails when either file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import template_rules  # noqa: E402

HEADER = "# Written by scripts/write_question_files.py from template_rules.py: edit those, not this.\n"

COPIER_SETTINGS = {
    "_min_copier_version": "9.4.0",
    # One project tree for both engines: copier renders the cookiecutter directory.
    "_subdirectory": "{% raw %}{{cookiecutter.project_slug}}{% endraw %}",
    "_templates_suffix": "",
    "_answers_file": ".copier-answers.yml",
    "_jinja_extensions": [
        "copier_template_extensions.TemplateExtensionLoader",
        "template_rules.py:RulesExtension",
        "extensions/copier_context.py:CookiecutterContext",
    ],
}


def default_for(question: template_rules.Question, prefix: str) -> object:
    if question.derived_from:
        source, filter_name = question.derived_from
        return f"{{{{ {prefix}{source} | {filter_name} }}}}"
    if question.choices:
        return [question.default, *(c for c in question.choices if c != question.default)]
    return question.default


def cookiecutter_json() -> str:
    data: dict[str, object] = {q.name: default_for(q, "cookiecutter.") for q in template_rules.QUESTIONS}
    # Empty under cookiecutter, so the copier answers file is not written; see extensions/.
    data["__answers"] = ""
    data["_extensions"] = ["template_rules.RulesExtension"]
    data["__prompts__"] = {q.name: q.help for q in template_rules.QUESTIONS}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def copier_yml() -> str:
    data: dict[str, object] = dict(COPIER_SETTINGS)
    for q in template_rules.QUESTIONS:
        entry: dict[str, object] = {"type": "bool" if isinstance(q.default, bool) else "str", "help": q.help}
        default = default_for(q, "")
        if q.choices:
            entry["choices"] = list(q.choices)
            default = q.default
        entry["default"] = default
        others = "".join(f", {other}={other}" for other in template_rules.CROSS_RULES.get(q.name, ((), None))[0])
        entry["validator"] = f"{{{{ answer_error('{q.name}', {q.name}{others}) }}}}"
        data[q.name] = entry
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def main(argv: list[str]) -> int:
    stale = []
    for name, text in (("cookiecutter.json", cookiecutter_json()), ("copier.yml", copier_yml())):
        path = ROOT / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python scripts/write_question_files.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

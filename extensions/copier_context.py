"""copier only: expose copier's answers under the `cookiecutter` name the project tree uses."""

from __future__ import annotations

from typing import Any

from copier_template_extensions import ContextHook


class CookiecutterContext(ContextHook):
    def hook(self, context: dict[str, Any]) -> None:
        answers = {key: value for key, value in context.items() if not key.startswith("_") and not callable(value)}
        # Names the answers file under copier; cookiecutter leaves it empty so it writes none.
        answers["__answers"] = context["_copier_conf"]["answers_file"]
        context["cookiecutter"] = answers

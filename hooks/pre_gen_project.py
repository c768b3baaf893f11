"""Validate every answer before cookiecutter writes anything; copier runs the same rules."""

import json
import sys

# Answers arrive as JSON data, never as code: any text a user typed stays a string.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# cookiecutter names its template checkout `_repo_dir`; cruft does not, so fall back to the
# directory of the rules module, which its Jinja extension reports.
sys.path.insert(0, ANSWERS.get("_repo_dir") or json.loads(r"""[{{ rules_dir | tojson }}]""")[0])

import template_rules  # noqa: E402

errors = template_rules.validate(ANSWERS)
if errors:
    print("\n".join(["Cannot generate the project:", *errors]), file=sys.stderr)
    sys.exit(1)

"""Validate every answer before cookiecutter writes anything; copier runs the same rules."""

import json
import sys

# Answers arrive as JSON data, never as code: any text a user typed stays a string.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

sys.path.insert(0, ANSWERS["_repo_dir"])

import template_rules  # noqa: E402

errors = template_rules.validate(ANSWERS)
if errors:
    print("\n".join(["Cannot generate the project:", *errors]), file=sys.stderr)
    sys.exit(1)

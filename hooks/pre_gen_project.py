"""Before cookiecutter writes a file: every answer is checked by copier.yml's validators.

copier.yml holds each question's validator (macros of templates/rules.jinja). copier runs them
as it asks; for cookiecutter, cruft and the cookiecutter API, cookiecutter_questions.py runs the
same Jinja, so both engines give the same verdict and reason, every bad answer listed at once.

The check runs first from cookiecutter.json's last private variable, `__validate_answers`, which
cookiecutter renders right after the last question. It cannot wait for this hook: cookiecutter
creates the project directory before it runs pre_gen_project (a slug such as `a/b` or `../x`
would already have made directories), and `--accept-hooks=no` skips hooks altogether.

This hook checks again, for answers that never went through the questions: `cookiecutter
--replay` of a replay file edited by hand (cookiecutter saves one only after the questions'
check has passed). Such a run has already made the project directory, which cookiecutter
removes when this hook fails, but not the directories above a slug holding a `/`; and
cookiecutter logs the failure of a hook with a traceback.

cookiecutter renders this file with the template's Jinja before running it: the verdict arrives
here as data, never as code.
"""

import json
import sys

verdict = json.loads(r"""{{ {"problems": problems_before_generating(cookiecutter)} | tojson }}""")
if verdict["problems"]:
    print(verdict["problems"])
    sys.exit(1)

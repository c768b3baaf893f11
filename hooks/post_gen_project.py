"""Once cookiecutter has written the project: print the next steps.

The text is copier.yml's `_message_after_copy` (templates/next_steps.jinja), which copier prints
after copying and the generated README repeats; cookiecutter renders it into this file as data.
To stderr, where copier prints it. Nothing is left to tidy up: the tree's conditional file names
already leave out what the answers turn off.
"""

import json
import sys

message = json.loads(r"""{{ {"text": next_steps(cookiecutter)} | tojson }}""")
print(message["text"], file=sys.stderr)

"""What `python3 tasks.py demo` runs, and the local servers it shares with the tests and the
benchmark: the private git server (`local_git_server`) and this machine's package index
(`package_index`). A command people run must not import the test suite, so these live here and
the tests import them (tests/support/gitserver.py)."""

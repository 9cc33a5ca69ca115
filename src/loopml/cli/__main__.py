"""`python -m loopml.cli`, the same as the `loopml` command."""

from loopml.cli import main

main()

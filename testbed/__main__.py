"""``python -m testbed``: the same command line as the ``testbed`` script."""

from testbed.cli.main import main

main()

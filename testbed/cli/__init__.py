"""The ``testbed`` command and its sub-commands: thin layers that parse, call the stages and set the exit code.

May import: anything. Nothing in the package imports it.
"""

"""The lab: running hosts on an isolated network (backends docker and netns), network faults, images, cleanup.

May import: errors, clock, build (topology, zones), resolvers, auth, timeshim, and timeline.build (the compose export
builds its scenario). Never: run, report, cli.
"""

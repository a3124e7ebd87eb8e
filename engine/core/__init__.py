"""The system boundary: errors, subprocesses, output files, git plumbing, safe log text.

Bottom layer: imports nothing else from ``engine``.  Everything above reaches the operating
system (processes, files, git) through these modules.
"""

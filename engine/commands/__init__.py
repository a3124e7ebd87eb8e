"""One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

Command modules import only argparse at module level so that ``skrender --help`` and the
start-up of every command stay fast; the pipeline is imported inside ``run``.
"""

from __future__ import annotations

# subcommand name -> module under engine.commands
COMMANDS = {
    "render": "render",
    "tags": "tags",
    "publish": "publish",
    "build": "build",
}

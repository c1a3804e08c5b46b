"""The ``mislink`` command line: a layer over the engine, outside it.

``cli.main`` is the parser and the headless commands, ``cli.intake`` the
``intake`` subcommands, ``cli.common`` what both share (exit codes, output,
opening the library). The terminal UI is imported only when no command is
given, so a headless run never loads Textual.
"""

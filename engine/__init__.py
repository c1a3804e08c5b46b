"""mislink's headless engine: read an Xporter export, plan a sync, apply it.

Nothing in this package imports Textual. The terminal UI (``tui/``) and the
command line (``cli/``) use ``engine.api``, the engine's one public face; every
other module here is internal.
"""

"""mislink's headless engine: read an Xporter export, plan a sync, apply it.

Nothing in this package imports Textual; the terminal UI in ``tui/`` drives the
engine through its public functions only.
"""

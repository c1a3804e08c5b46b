"""mislink's terminal UI: the librarian's Intake queue, the sync log, the
recycle bin and the settings, over the engine's API (``engine.intake``,
``engine.history``, ``engine.sync``, ``engine.recycle_bin``, ``engine.config``).

Nothing here reads the database directly or decides who matches whom.
``tui.app.make_app`` builds the app for the command line and the tests alike.
"""

"""Moved: the terminal UI's school is tests/support/schools.py, and driving
the app is tests/support/tui.py. These names stay here only until the last
test file importing them from here imports them from there; this module
holds no tests."""
from tests.support.schools import (ALFIE, BEA, BEN, GRACE, PUPILS, RITA, SHOWN_AT, ZED, build_school,  # noqa: F401
                                   library_of, sync_export)
from tests.support.tui import (app_for, drives_the_app, highlight, keys_handled, press, running, settle,  # noqa: F401
                               until_steady)

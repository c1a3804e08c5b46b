"""``python -m engine.cli_main``: the mislink command without the installed script."""
import sys

from engine.cli import main

sys.exit(main())

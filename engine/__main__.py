"""``python -m engine``: the mislink command without the installed script."""
import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())

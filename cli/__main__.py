"""``python -m cli``: the mislink command without the installed script."""
import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())

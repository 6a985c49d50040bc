"""`python -m app`: a thin entry point; the commands live in app.cli."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())

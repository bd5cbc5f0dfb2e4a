"""Entry point for ``python -m kefu_check``."""
from __future__ import annotations

import sys

from kefu_check.cli import main

if __name__ == "__main__":
    sys.exit(main())

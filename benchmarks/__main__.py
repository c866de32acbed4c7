"""``python -m benchmarks``: see `benchmarks.run`."""

import sys

from benchmarks.run import entry

sys.exit(entry())

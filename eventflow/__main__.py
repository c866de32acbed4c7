"""``python -m eventflow``: the same command line as the ``eventflow`` script."""

from eventflow.cli import main

raise SystemExit(main())

"""``python -m codemode_tui``: the same as the ``codemode-tui`` command."""

from .cli import main

raise SystemExit(main())

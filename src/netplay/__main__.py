"""``python -m netplay`` is the ``netplay`` command."""

from .cli import main

raise SystemExit(main())

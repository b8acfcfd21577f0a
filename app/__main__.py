"""`python -m app` runs the same as the `switchboard` command."""

from app.cli import main

raise SystemExit(main())

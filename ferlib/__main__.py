"""`python -m ferlib …` entry point."""

from ferlib.cli import main

raise SystemExit(main())

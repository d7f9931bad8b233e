"""`python -m denoisekit ...` runs the CLI, as the `denoisekit` command does."""

import sys

from .cli import main

sys.exit(main())

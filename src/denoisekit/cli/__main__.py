"""`python -m denoisekit.cli ...` runs the CLI, as the `denoisekit` command does."""

import sys

from . import main

sys.exit(main())

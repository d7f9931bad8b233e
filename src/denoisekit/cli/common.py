"""Exit codes and the usage error every verb module shares."""

from __future__ import annotations

from ..errors import DenoiseKitError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class UsageError(DenoiseKitError):
    """A command line that parses but cannot be run as written (exit 2)."""

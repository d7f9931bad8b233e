"""The `denoisekit` command: parse arguments, call library functions, print results.

Errors a user can fix print one line and exit 1 (`--debug` shows the traceback instead); usage
errors exit 2, as argparse's do; a run that skipped some inputs exits 3 (`cli.options.EPILOG`).
"""

from __future__ import annotations

import sys
import warnings

from ..errors import DenoiseKitError, InputWarning
from .common import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, UsageError
from .parser import MODULE_VERBS, build_parser, verb_module
from .verbs import VERBS

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "UsageError", "VERBS", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (argparse exits 2 itself on a bad command line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    shown_before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        """InputWarnings (a damaged EXIF block, frames past the first) as one `note:` line."""
        if issubclass(category, InputWarning):
            print(f"note: {message}", file=sys.stderr)
        else:
            shown_before(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = show
        return _run(args)


def _run(args) -> int:
    try:
        if args.command in MODULE_VERBS:
            return verb_module(args.command).run(args) or EXIT_OK
        return VERBS[args.command](args) or EXIT_OK
    except DenoiseKitError as e:
        if args.debug:
            raise
        print(f"denoisekit: error: {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, UsageError) else EXIT_ERROR
    except OSError as e:  # a path the run cannot write (a file where a folder must be, ...)
        if args.debug:
            raise
        where = f": {e.filename}" if e.filename else ""
        print(f"denoisekit: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("denoisekit: interrupted", file=sys.stderr)
        return 130

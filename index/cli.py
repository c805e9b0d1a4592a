"""The command lines' one edge: a problem the user can fix becomes one line on stderr and an exit
code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from pydantic import ValidationError

from index.errors import VerbatimError


def setting_problems(exc: ValidationError) -> str:
    """Validation errors of Settings, each naming its environment variable."""
    return "; ".join(
        (f"VERBATIM_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "") + e["msg"]
        for e in exc.errors()
    )


def guarded(action: Callable[[], int]) -> int:
    """Run `action`; map bad settings to exit 2, VerbatimError to 1 and Ctrl-C to 130."""
    try:
        return action()
    except ValidationError as exc:
        print(f"error: invalid setting: {setting_problems(exc)}", file=sys.stderr)
        return 2
    except VerbatimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous index (if any) is untouched.", file=sys.stderr)
        return 130

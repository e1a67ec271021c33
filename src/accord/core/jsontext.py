"""JSON from outside: every way a text can fail to be JSON raises `json.JSONDecodeError`.

`json.loads` also raises ValueError for a number of more than 4,300 digits and RecursionError
for arrays or objects nested a few thousand deep: both reached the callers' `except
JSONDecodeError` as crashes (found by fuzzing), so they are turned into decode errors here."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """Parse JSON text from an untrusted source; JSONDecodeError says why it is not JSON."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deep", "", 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(f"a number too long to read ({exc})", "", 0) from None

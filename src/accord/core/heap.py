"""Python's cyclic garbage collector around bulk loads.

Building a watchlist index allocates millions of long-lived tuples and strings, none of them in
a reference cycle. Each full collection walks every tracked object, and as the heap grows the
collector runs again and again: at 500,000 records it took 40 % of the build. Reference
counting still frees everything that is not in a cycle while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, then_freeze: bool = False) -> Iterator[None]:
    """Pause cyclic collection while a large structure is built; resume it afterwards (unless it
    was already off).

    On resuming, everything allocated meanwhile is young, and the first allocation after sets off
    a collection that walks all of it (about 10 s for a 500,000-record index, finding a few
    hundred objects). With `then_freeze`, for a process that builds a structure and then only
    reads it (a screening shard), every object alive is first moved out of the collector's reach
    for good (`gc.freeze`): later collections walk only what is allocated afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if then_freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()

"""Progress for long commands: a bar with a rate on a terminal, nothing anywhere else.

A command that runs for minutes (seeding a million bets, a load storm, a month's export) draws
a ``tqdm`` bar on its standard error when that is a terminal, so a person sees it move and how
fast. Under cron, CI or a pipe the bar is off and writes nothing: the command's output stays
exactly the lines it always printed, and standard output (a CSV, the figures) never carries a
bar. ``tqdm`` would make that choice itself (``disable=None``), but it keeps drawing on a stream
without ``isatty``; here anything that is not known to be a terminal is quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar, overload

from django.core.management.base import OutputWrapper
from tqdm import tqdm

T = TypeVar("T")

#: Redraw at most this often (seconds): a bar is for eyes, not worth a system call per item.
REDRAW_EVERY_S = 0.5


Stream = IO[str] | OutputWrapper


@overload
def progress(
    iterable: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    unit_scale: bool = False,
    stream: Stream | None = None,
) -> tqdm[T]: ...


@overload
def progress(
    iterable: None = None,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    unit_scale: bool = False,
    stream: Stream | None = None,
) -> tqdm[Any]: ...


def progress(
    iterable: Iterable[T] | None = None,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    unit_scale: bool = False,
    stream: Stream | None = None,
) -> tqdm[T] | tqdm[Any]:
    """A ``tqdm`` bar over ``iterable`` (or to ``update`` by hand up to ``total``).

    ``stream`` is where the bar goes: a command's ``self.stderr`` (default ``sys.stderr``).
    Off, the bar is ``tqdm``'s own no-op: iterating it yields the items, ``update`` returns.
    """
    out = _bare(stream if stream is not None else sys.stderr)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        unit_scale=unit_scale,
        file=out,
        disable=not is_terminal(out),
        mininterval=REDRAW_EVERY_S,
        dynamic_ncols=True,
    )


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` says it is a terminal (a stream that cannot say is not one)."""
    isatty = getattr(_bare(stream), "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed file
        return False


def to_running_total(bar: tqdm[Any]) -> Callable[[int], None]:
    """A callback told the running total (rows written or loaded so far) that moves ``bar``."""

    def moved(total: int) -> None:
        bar.update(total - bar.n)

    return moved


@contextmanager
def lines_over(bar: tqdm[Any]) -> Iterator[None]:
    """Print whole lines while ``bar`` is drawn: the bar is wiped first and drawn again after."""
    bar.clear()
    try:
        yield
    finally:
        bar.refresh()


def _bare(stream: Any) -> Any:
    # Django's OutputWrapper ends every write with a newline and colours standard error red on
    # a terminal: a bar redrawn in place with "\r" needs the stream underneath.
    return stream._out if isinstance(stream, OutputWrapper) else stream

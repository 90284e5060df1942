"""``monitoring.progress``: a bar with a rate on a terminal, not a byte anywhere else."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from django.core.management.base import OutputWrapper

from monitoring.progress import is_terminal, lines_over, progress, to_running_total


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's shell does."""

    def isatty(self) -> bool:
        return True


class Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_on_a_terminal_the_bar_is_drawn_with_its_count_and_rate() -> None:
    stream = Terminal()
    assert list(progress(range(250), desc="seeding", unit="bet", stream=stream)) == list(range(250))
    drawn = stream.getvalue()
    assert "\r" in drawn  # redrawn in place
    assert "seeding" in drawn
    assert "250/250" in drawn
    assert "bet/s" in drawn


def test_off_a_terminal_nothing_is_written() -> None:
    stream = io.StringIO()
    assert sum(progress(range(1000), desc="seeding", stream=stream)) == sum(range(1000))
    with progress(desc="sending", total=10, unit="req", stream=stream) as bar:
        bar.update(10)
        with lines_over(bar):
            stream.write("a line of its own\n")
    assert stream.getvalue() == "a line of its own\n"


def test_a_commands_output_wrapper_is_judged_by_the_stream_under_it() -> None:
    terminal = Terminal()
    with progress(desc="export", total=3, unit="B", stream=OutputWrapper(terminal)) as bar:
        bar.update(3)
    drawn = terminal.getvalue()
    assert "\r" in drawn and "3/3" in drawn
    assert drawn.count("\n") == 1  # the bar's last line only: no newline after each redraw
    piped = io.StringIO()
    with progress(desc="export", total=3, stream=OutputWrapper(piped)) as bar:
        bar.update(3)
    assert piped.getvalue() == ""


def test_streams_that_cannot_say_are_not_terminals() -> None:
    assert not is_terminal(object())
    assert not is_terminal(Closed())
    assert is_terminal(Terminal())


def test_lines_printed_over_a_bar_start_on_a_clean_line() -> None:
    stream = Terminal()
    with progress(desc="loading", total=2, unit="statement", stream=stream) as bar:
        bar.update(1)
        bar.refresh()
        with lines_over(bar):
            stream.write("  1.0 s  INSERT INTO wallet_bet\n")
        bar.update(1)
    drawn = stream.getvalue()
    before, line, after = drawn.partition("  1.0 s  INSERT INTO wallet_bet\n")
    assert line
    assert before.endswith("\r")  # the bar was wiped back to the line's start
    assert "loading" in after  # and drawn again below the line


def test_a_running_total_moves_the_bar_to_it() -> None:
    stream = Terminal()
    with progress(desc="archiving", unit="row", stream=stream) as bar:
        told = to_running_total(bar)
        for total in (5000, 10000, 12345):
            told(total)
        assert bar.n == 12345
    assert "12345" in stream.getvalue()


def test_the_module_imports_nothing_of_ours() -> None:
    """Any app may draw progress, the journal below the wallet too: this module is a leaf."""
    source = Path(progress.__code__.co_filename).read_text(encoding="utf-8")
    modules = {
        node.module.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert modules <= {"__future__", "collections", "contextlib", "sys", "typing", "django", "tqdm"}

"""The `flowtape` command."""

from __future__ import annotations

import gc

import typer

import cli.alpha
import cli.api
import cli.book
import cli.compute
import cli.daemon
import cli.deliver
import cli.features
import cli.ingest
import cli.keys
import cli.monitor
import cli.record
import cli.replay
import cli.score
import cli.sink
import cli.sql
import cli.stack
import cli.subscribe
import cli.synth
from schemas.errors import FlowtapeError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

# Each module adds its commands with `register(app)`; this order is `flowtape --help`'s.
COMMAND_MODULES = (
    cli.stack, cli.sql, cli.synth, cli.ingest, cli.compute, cli.sink, cli.replay, cli.score,
    cli.api, cli.keys, cli.daemon, cli.record, cli.book, cli.features, cli.deliver,
    cli.monitor, cli.subscribe, cli.alpha,
)  # fmt: skip
for module in COMMAND_MODULES:
    module.register(app)


def tune_gc() -> None:
    """Collect cyclic garbage rarely: flowtape holds millions of small acyclic objects
    (events, engine state) and CPython's default thresholds rescan them so often that the
    engine runs at a third of its speed (bench/bench_replay.py shows the difference)."""
    gc.freeze()  # what import created stays out of every later scan
    gc.set_threshold(100_000, 50, 100)


def _report(line: str) -> None:
    """`error: [code] message` on stderr, on one line whatever the message holds."""
    typer.echo(f"{typer.style('error:', fg='red')} {' '.join(line.split())}", err=True)


def main() -> None:
    """Run the command line; an error ends it with one line on stderr: `error: [code] ...`."""
    tune_gc()
    try:
        # Not standalone: usage errors come back here instead of printing a boxed panel. The
        # result is an exit code where the command exited early (--help; 130 after Ctrl-C).
        exit_code = app(standalone_mode=False)
    except FlowtapeError as exc:
        _report(str(exc))
        raise SystemExit(2) from exc
    except typer.TyperException as exc:  # bad arguments, from Typer or a command's checks
        if exc.format_message():  # a bare `flowtape` has printed its help and has no message
            _report(f"[usage] {exc.format_message()}")
        raise SystemExit(exc.exit_code) from exc
    except Exception as exc:  # a fault of flowtape itself: still one line, no traceback
        _report(f"[internal] {type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc
    raise SystemExit(exit_code)


if __name__ == "__main__":
    main()

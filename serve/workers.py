"""granian's command line, with its signal handling made safe: `python -m serve.workers <granian options>`.

`make serve` and `make serve-prod` start granian through this module so that a stop always ends.
granian 2.8.7 (server/common.py, server/mp.py) has two faults in how its processes take signals,
the first two seen as `tests/test_workers.py` hanging on SIGTERM to the process group:

1. **The main process can deadlock in its own signal handler.** Its SIGTERM/SIGINT handler calls
   `threading.Event.set()`, which takes the event's (non-reentrant) lock. A second signal that
   arrives while the first handler is inside `set()` runs the handler again, in the same thread,
   and that call waits for the lock its own thread holds: the main process hangs for ever, stops no
   worker, and `make` (its parent) waits for it. A SIGTERM to the process group of `make serve` is
   exactly two signals: one from the kill and one that GNU make forwards to its child when it
   receives SIGTERM. (py-spy showed the main thread blocked in `Condition.__enter__` under
   `signal_handler_interrupt` -> `Event.set` -> `notify_all` -> `signal_handler_interrupt`.)
   Fix: the handler only sets a flag (no lock), and a small thread turns the flag into the
   `Event.set()` granian's main loop waits for, outside any signal handler.
2. **A worker that is still starting ignores SIGTERM.** Workers are forked from the main process
   and inherit its Python signal handler until, once the app is built (0.3-1 s: imports, the
   integrity check), granian installs the worker's own. A SIGTERM in that window runs the inherited
   handler, which sets a flag on the worker's copy of the main's state that nothing reads: the
   signal is lost, the worker starts serving, and only `--workers-kill-timeout` (5 s) ends it -
   or nothing, if the main process is stuck as in 1, which left a worker running with its parent
   gone. Fix: right after the fork, the worker's SIGTERM, SIGINT and SIGHUP go back to their
   default action, so a worker that is not serving yet stops at once; granian replaces them with
   its graceful handlers when the worker starts serving.

3. **A stop of the whole process group reads as a crash.** Ctrl-C (or SIGTERM to the process
   group, as `make` and serve/prod.py stop it) reaches the worker as well as the main process. The
   worker stops gracefully by itself, often before the main process has acted on its own signal,
   and granian's watcher then logs `Unexpected exit from worker-1` and exits with 1, so `make`
   prints `Error 1` after a normal stop; with `--respawn-failed-workers` it could even start a new
   worker during the stop. Fix: a worker that ends as a stop ends it (exit code 0, or killed by
   SIGTERM, SIGINT or SIGHUP) is taken for a stop when the main process receives its own stop
   signal within STOP_GRACE seconds: nothing is logged and nothing respawned. Any other end (kill -9,
   a crash, a stop of the worker alone) is a failure: with `--respawn-failed-workers` (`make serve`
   passes it) the worker is started again, and the server stays up.

The fixes touch only signal plumbing; requests are served exactly as by the `granian` command.

With `--factory module:function`, the main process imports the module before it forks its workers,
so each worker starts with Datasette and the plugins' imports done (copy-on-write pages shared by
all of them): a worker forked on SIGHUP, e.g. for a new release (serve/prod.py), answers within
about 0.2 s instead of a full cold start. The factory itself still runs in each worker, so each
opens the release published when it starts.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import sys
import threading
import time

from granian.cli import entrypoint
from granian.server.common import AbstractServer, AbstractWorker

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
WAKE_INTERVAL = 0.05  # seconds between looks at the flags: the delay a stop or reload may add
# How long a worker that stopped gracefully waits for its main process's own stop signal (which
# arrives with it when the group is stopped) before it counts as a failure and is respawned.
STOP_GRACE = 2.0
STOP_EXIT_CODES = {0} | {-number for number in STOP_SIGNALS}


def interrupt_flag_only(server, *args, **kwargs) -> None:
    server.interrupt_signal = True


def reload_flag_only(server, *args, **kwargs) -> None:
    server.reload_signal = True


def wake_main_loop(server) -> None:
    """Turn the flags the handlers set into the event granian's main loop waits for."""
    while True:
        time.sleep(WAKE_INTERVAL)
        if server.interrupt_signal or server.reload_signal:
            server.main_loop_interrupt.set()


granian_startup = AbstractServer.startup


def startup_with_waker(server, *args, **kwargs):
    threading.Thread(target=wake_main_loop, args=(server,), name="signal-waker", daemon=True).start()
    return granian_startup(server, *args, **kwargs)


def default_stop_signals() -> None:
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


def stop_arrives(server) -> bool:
    deadline = time.monotonic() + STOP_GRACE
    while not server.interrupt_signal and time.monotonic() < deadline:
        time.sleep(WAKE_INTERVAL / 5)
    return server.interrupt_signal


def watch_worker(worker) -> None:
    """granian's watcher of one worker process (AbstractWorker._watcher), telling a stop from a failure."""
    worker.inner.join()
    if worker.interrupt_by_parent:
        return
    server = worker.parent
    if worker.inner.exitcode in STOP_EXIT_CODES and stop_arrives(server):
        return  # the whole group is stopping: the main process stops the rest, and exits 0
    print(
        f"worker-{worker.idx + 1} (PID {worker.inner.pid}) exited with {worker.inner.exitcode}"
        + (": starting it again" if server.respawn_failed_workers else ": stopping"),
        file=sys.stderr,
        flush=True,
    )
    server.interrupt_children.append(worker.idx)
    server.main_loop_interrupt.set()


def patch() -> None:
    AbstractServer.signal_handler_interrupt = interrupt_flag_only
    AbstractServer.signal_handler_reload = reload_flag_only
    AbstractServer.startup = startup_with_waker
    AbstractWorker._watcher = watch_worker
    os.register_at_fork(after_in_child=default_stop_signals)


def preload_factory_module(argv: list[str]) -> None:
    target = next((arg for arg in argv if re.fullmatch(r"[\w.]+:\w+", arg)), None)
    if "--factory" in argv and target:
        importlib.import_module(target.split(":", 1)[0])


if __name__ == "__main__":
    patch()
    preload_factory_module(sys.argv[1:])
    sys.argv[0] = "granian"
    sys.exit(entrypoint())

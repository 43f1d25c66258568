"""`make serve` stays up when a worker dies, and stops quietly when asked, never respawning then.

A worker killed with kill -9 is started again and the site answers; a stop (Ctrl-C or SIGTERM to
the process group, SIGTERM to the server alone) then ends every process with no traceback, no
`Unexpected exit`, no `Error 1` and no respawn, and the server process itself exits 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from .conftest import ROOT
from .servers import free_port, log_text, make_command, start_server, wait_until, wait_until_answers
from .test_workers import get, granian_workers, processes_in_group

pytestmark = pytest.mark.live

NOISE = ("Traceback", "Unexpected exit", "Error 1", "Error 2", "[ERROR]")


def started(tmp_path, target: str = "serve"):
    """`make TARGET` on a free 127.0.0.1 port, all it writes in a log: its process, the log and the base URL."""
    port = free_port()
    log = open(tmp_path / "log", "w+b")
    return start_server(make_command(target, port), log=log), log, f"http://127.0.0.1:{port}"


def wait_for_new_worker(make, old: set[int], seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = set(granian_workers(make.pid)) - old
        if new:
            return new.pop()
        time.sleep(0.05)
    raise AssertionError("no worker was started again")


def noise_in(text: str) -> list[str]:
    return [noise for noise in NOISE if noise in text]


def children_of(make, parent: int) -> list[int]:
    """The processes of make's group whose parent is `parent`."""
    return [pid for pid, (its_parent, _) in processes_in_group(make.pid).items() if its_parent == parent]


def assert_all_gone(make) -> None:
    deadline = time.monotonic() + 15
    while processes_in_group(make.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_in_group(make.pid), processes_in_group(make.pid)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_killed_worker_is_respawned_and_a_stop_of_the_group_is_quiet_and_respawns_nothing(tmp_path, stop_signal):
    make, log, base = started(tmp_path)
    try:
        wait_until_answers(base + "/-/versions.json", make, log)
        [worker] = granian_workers(make.pid)
        os.kill(worker, signal.SIGKILL)
        replacement = wait_for_new_worker(make, {worker})
        wait_until_answers(base + "/-/versions.json", make, log)
        assert get(base + "/drugbeleid/caseload.json")[0] == 200
        assert granian_workers(make.pid) == [replacement]
        os.killpg(make.pid, stop_signal)  # as Ctrl-C or `kill -TERM -PGID` would
        make.wait(timeout=30)
        assert_all_gone(make)
        text = log_text(log)
        assert text.count("starting it again") == 1, text  # the kill -9, not the stop
        assert not noise_in(text), text
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()


def test_sigterm_to_the_server_process_alone_ends_it_with_0(tmp_path):
    """make reports a child that fails (`Error N`); it exits 0 only when the server exited 0."""
    make, log, base = started(tmp_path)
    try:
        wait_until_answers(base + "/-/versions.json", make, log)
        [server] = children_of(make, make.pid)
        os.kill(server, signal.SIGTERM)
        assert make.wait(timeout=30) == 0, log_text(log)
        assert_all_gone(make)
        text = log_text(log)
        assert "starting it again" not in text and not noise_in(text), text
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()


@pytest.mark.parametrize("to_the_group", [True, False], ids=["group", "server alone"])
def test_a_worker_that_ran_visitor_sql_stops_quietly_with_its_query_processes(tmp_path, to_the_group):
    """The processes that run visitor SQL (serve/query_processes.py) start with the first visitor
    query and stop with their worker: SIGTERM to the group or to the server alone, right after the
    query (the pool may still be starting its second process), ends every process at once, quietly."""
    make, log, base = started(tmp_path)
    try:
        wait_until_answers(base + "/-/versions.json", make, log)
        [worker] = granian_workers(make.pid)
        before = set(processes_in_group(make.pid))
        assert get(base + "/drugbeleid.json?sql=select+1")[0] == 200
        started_by_query = children_of(make, worker)
        assert set(started_by_query) - before, "no query process was started"
        [server] = children_of(make, make.pid)
        stopped_at = time.monotonic()
        if to_the_group:  # as `kill -TERM -PGID`: make itself is stopped too
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=30)
        else:  # make exits 0 only when the server did
            os.kill(server, signal.SIGTERM)
            assert make.wait(timeout=30) == 0, log_text(log)
        assert_all_gone(make)
        # the worker does not wait for granian's kill after 5 s: its query processes are stopped first
        assert time.monotonic() - stopped_at < 4, log_text(log)
        text = log_text(log)
        assert "refused to gracefully stop" not in text and not noise_in(text), text
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()


# --- make serve-prod: first contact and a quiet stop --------------------------------------------------

NGINX_MISSING = (
    "make serve-prod needs nginx: run 'sudo apt-get install nginx' (or install it and set NGINX=/path/to/nginx)"
)


def test_make_serve_prod_without_nginx_says_in_one_line_what_to_install():
    command = ["make", "-s", "serve-prod", "NGINX=/nonexistent/nginx", "PORT=1"]
    if os.geteuid() == 0:  # root gets nginx installed (as .ci/run does): the line is for everyone else
        command = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", *command]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    # make's own lines ("make: ***", or "make[1]: ***" when run from make test) are not the message
    assert [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?:", line)] == [NGINX_MISSING]
    assert "Traceback" not in result.stdout + result.stderr


def test_serve_prod_with_no_nginx_where_it_is_named_stops_with_one_line():
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "serve.prod",
            "--port",
            str(free_port()),
            "--nginx",
            "/nonexistent/nginx",
            "--run",
            "/nonexistent/run",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "serve-prod: error: no nginx at /nonexistent/nginx: install it (Debian: sudo apt-get install nginx) or name it with --nginx",
        "serve-prod: stopped",
    ]


@pytest.mark.proxy
def test_sigterm_to_serve_prod_alone_ends_it_with_0(tmp_path):
    make, log, _ = started(tmp_path, "serve-prod")
    try:
        wait_until(lambda: "serving http" in log_text(log), "make serve-prod", process=make, log=log)
        [server] = children_of(make, make.pid)
        os.kill(server, signal.SIGTERM)
        assert make.wait(timeout=60) == 0, log_text(log)
        text = log_text(log)
        assert not noise_in(text), text
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()

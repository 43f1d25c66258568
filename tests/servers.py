"""The servers the tests start: each on a free port of a loopback address, in a process group of
its own, waited for until it answers, and stopped by that group's PID (never by name)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from serve.prod import worker_command

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_command(target: str, port: int, *variables: str) -> list[str]:
    """`make -s TARGET` (serve, serve-prod) as the README runs it, on 127.0.0.1:port."""
    return ["make", "-s", target, f"PORT={port}", "HOST=127.0.0.1", *variables]


def start_server(command: list[str], cwd: Path = ROOT, env: dict | None = None, log=None) -> subprocess.Popen:
    """`command` in a process group of its own, all it writes to `log` (a file open for writing, or
    a path it is appended to; None: discarded). A pipe nobody reads would fill up and block the
    server mid-request."""
    if isinstance(log, Path):
        with open(log, "ab") as out:
            return start_server(command, cwd, env, out)
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def log_text(log) -> str:
    """What a server wrote to `log`: a path, or a file open for reading and writing in binary."""
    if log is None:
        return ""
    if isinstance(log, Path):
        return log.read_text(errors="replace") if log.exists() else ""
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")


def wait_until(condition, what: str, seconds: float = 60, process: subprocess.Popen | None = None, log=None):
    """condition()'s first true value, asked every 0.05 s; fails when `process` exits first (with
    what it wrote to `log`) or after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if process is not None and process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} while waiting for {what}:\n" + log_text(log))
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.05)
    return result


def answers(url: str) -> bool:
    """Whether `url` answers with a success (an error status, a refused or slow connection: no)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def wait_until_answers(url: str, process: subprocess.Popen, log=None, seconds: float = 60) -> None:
    wait_until(lambda: answers(url), f"{url} to answer", seconds, process, log)


def stop(process: subprocess.Popen, seconds: float = 15) -> None:
    """SIGTERM to the process group `process` leads (what is left of it, if it has exited), then
    wait for it to end."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # the whole group has ended
        pass
    process.wait(timeout=seconds)


def start_worker(
    env: dict | None,
    host: str = "127.0.0.1",
    cwd: Path = ROOT,
    log=None,
    probe: str = "/-/versions.json",
    python: str = sys.executable,
) -> tuple[subprocess.Popen, str]:
    """A worker of the site as production runs one (serve.prod.worker_command) on a free port of
    `host`, once `probe` answers: its process and base URL. Stopped at once if it does not answer."""
    port = free_port(host)
    process = start_server(worker_command("--host", host, "--port", str(port), python=python), cwd, env, log)
    base = f"http://{host}:{port}"
    try:
        wait_until_answers(base + probe, process, log)
    except BaseException:
        stop(process)
        raise
    return process, base


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, command line) of every process this machine shows."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue  # ended meanwhile
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), cmdline)
    return found

"""`WORKERS=2 make serve`: several worker processes, each a whole site built by serve/app.py with
the settings written once in serve/settings.json, each refusing a database that is not the build's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import ROOT
from .servers import free_port, make_command, processes, start_server, wait_until_answers

GRANIAN = str(ROOT / ".venv" / "bin" / "granian")
DATASETTE = str(ROOT / ".venv" / "bin" / "datasette")


def processes_in_group(pgid: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process in the process group."""
    return {pid: (parent, cmdline) for pid, (parent, group, cmdline) in processes().items() if group == pgid}


def granian_workers(pgid: int) -> list[int]:
    """The worker processes: the granian processes (`python -m serve.workers`, granian's command line)
    whose parent is the granian main process."""
    group = processes_in_group(pgid)
    granian = {
        pid
        for pid, (_, cmdline) in group.items()
        if ("granian" in cmdline or "serve.workers" in cmdline) and not cmdline.startswith("/bin/sh")
    }
    return [pid for pid in granian if group[pid][0] in granian]


def rss_mb(pid: int) -> float:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group: make, granian and every worker must then be gone."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)
    deadline = time.monotonic() + 15
    while processes_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = processes_in_group(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
    assert not left, f"still running after SIGTERM: {left}"


def test_workers_2_make_serve_runs_two_workers_with_the_settings_file(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "log", "w+b") as log:
        process = start_server(make_command("serve", port, "WORKERS=2"), log=log)
        try:
            wait_until_answers(base + "/-/versions.json", process, log)
            workers = granian_workers(process.pid)
            assert len(workers) == 2, processes_in_group(process.pid)
            urls = [f"/drugbeleid/caseload.json?_n={n}" for n in range(40)] + [
                "/drugbeleid/passages.json?_search=drug"
            ] * 20
            with ThreadPoolExecutor(8) as pool:
                statuses = [status for status, _ in pool.map(lambda path: get(base + path), urls)]
            assert statuses == [200] * len(urls)
            assert all(rss_mb(pid) < 200 for pid in workers), [rss_mb(pid) for pid in workers]
            served = json.loads(get(base + "/-/settings.json")[1])
            written = json.loads((ROOT / "serve" / "settings.json").read_text(encoding="utf-8"))
            assert {key: served[key] for key in written} == written
        finally:
            stop(process)


def test_every_worker_refuses_a_database_that_is_not_the_published_one(built, tmp_path):
    """The integrity check (plugins/integrity.py, a startup hook) runs in each worker before it
    serves; a flipped byte stops the server with the message and nothing is served."""
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    for name in ("drugbeleid.db", "metadata.json", "release.json"):
        shutil.copy(built.parent / name, deploy / name)
    subprocess.run(
        [DATASETTE, "inspect", str(deploy / "drugbeleid.db"), "--inspect-file", str(deploy / "inspect.json")],
        check=True,
        cwd=ROOT,
    )
    data = bytearray((deploy / "drugbeleid.db").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (deploy / "drugbeleid.db").write_bytes(bytes(data))
    port = free_port()
    result = subprocess.run(
        [
            GRANIAN,
            "--interface",
            "asgi",
            "--factory",
            "serve.app:create_app",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DRUGBELEID_DB": str(deploy / "drugbeleid.db")},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert result.returncode != 0
    assert f"refusing to serve {deploy / 'drugbeleid.db'}" in result.stderr and "SHA-256 is " in result.stderr, (
        result.stderr
    )

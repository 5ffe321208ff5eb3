"""A Ray cluster of two nodes on one machine, for tests and benchmarks: ``ray start
--head`` on 127.0.0.1 and ``ray start --address`` on 127.0.0.2 (one CPU each), and
a way to kill every process of one node, as a machine that dies would."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
WORKER_NODE = "127.0.0.2"


@contextlib.contextmanager
def two_node_cluster():
    """Head on 127.0.0.1, a worker node on 127.0.0.2, one CPU each; the head's address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                    "--include-dashboard=false", "--temp-dir", temp, *common],
                   check=True, capture_output=True, timeout=180)
    address = f"127.0.0.1:{port}"
    try:
        add_worker_node(address)
        yield address
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=180)
        shutil.rmtree(temp, ignore_errors=True)


def add_worker_node(address: str) -> None:
    subprocess.run([RAY, "start", "--address", address, "--node-ip-address", WORKER_NODE,
                    "--num-cpus", "1", "--disable-usage-stats"],
                   check=True, capture_output=True, timeout=180)
    deadline = time.monotonic() + 120
    while alive_nodes(address) < 2:
        assert time.monotonic() < deadline, "the second node never joined"
        time.sleep(1)


def alive_nodes(address: str) -> int:
    code = (f"import ray; ray.init(address={address!r}, logging_level='ERROR'); "
            "print(sum(n['Alive'] for n in ray.nodes()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=os.environ | {"RAY_AUTH_MODE": "disabled"})
    return int(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else 0


def node_processes(ip: str) -> list[int]:
    """Every process of the node at ``ip``: its raylet and everything under it."""
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(status.parent.name)] = (int(fields["PPid"]), command)
    roots = {pid for pid, (_, command) in parents.items()
             if b"raylet" in command and f"--node_ip_address={ip}".encode() in command}
    found, grew = set(roots), True
    while grew:
        children = {pid for pid, (parent, _) in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return sorted(found)


def kill_node(ip: str) -> int:
    processes = node_processes(ip)
    for pid in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(processes)



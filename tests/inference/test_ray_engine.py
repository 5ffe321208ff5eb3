"""--engine ray: the same rows and the same bundle as on this machine, on a real Ray
cluster started here (``ray start --head`` on 127.0.0.1, as the README tells users),
including a network worker killed mid-job."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds  # the [scale] extra, part of [test]: these tests never skip
import pytest
from conftest import run_cli, user_error
from fashion_mnist import CLASS_NAMES, write_few_shot

RAY = str(Path(sys.executable).with_name("ray"))


def read_rows(folder: Path) -> dict[str, dict]:
    return {row["path"]: row for row in ds.dataset(str(folder), format="parquet").to_table().to_pylist()}


@pytest.fixture(scope="module")
def cluster():
    """A one-node Ray cluster with 2 CPUs; its address, as ``ray start`` prints it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                    "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats",
                    "--temp-dir", temp], check=True, capture_output=True, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_labels_on_a_cluster_match_the_local_engine_and_resume_across_engines(
        trained, fashion3, tmp_path, cluster):
    (tmp_path / "broken.png").write_text("not an image")
    first, second = trained.classes[:2]
    # relative paths, as a user types them: the workers do not share this working folder
    sources = ["val", f"train/{first}", tmp_path / "broken.png"]
    local = tmp_path / "local.parquet"
    assert run_cli("predict", trained.bundle, *sources, "--output", local, cwd=fashion3).returncode == 0

    on_ray = tmp_path / "ray.parquet"
    started = run_cli("predict", trained.bundle, f"val/{second}", "--output", on_ray, cwd=fashion3)
    assert started.returncode == 0, started.stderr  # 15 rows done here first
    ray_job = ("predict", trained.bundle, *sources, "--output", on_ray, "--engine", "ray",
               "--ray-address", cluster, "--json")
    done = run_cli(*ray_job, cwd=fashion3)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["images"] == 45 + 35 + 1 and summary["done_before"] == 15
    assert summary["written"] == 66 and summary["errors"] == 1
    expected, rows = read_rows(local), read_rows(on_ray)
    assert len(rows) == 81 and set(rows) == set(expected)
    for path, row in rows.items():
        want = expected[path]
        assert (row["label"], row["sha256"], row["error"]) == (want["label"], want["sha256"], want["error"])
        if row["error"] is None:
            assert np.allclose(row["probabilities"], want["probabilities"], atol=1e-5)
            assert row["novelty"] == pytest.approx(want["novelty"], abs=1e-5)
    again = json.loads(run_cli(*ray_job, cwd=fashion3).stdout)
    assert again["written"] == 0 and again["done_before"] == 81


def network_workers() -> list[int]:
    """Process ids of the actors running the network (Ray names the process)."""
    listing = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in listing.splitlines() if "MapBatches(_Labeller)" in line]


def test_a_network_worker_killed_mid_job_loses_and_repeats_no_row(trained, tmp_path, cluster):
    images = write_few_shot(tmp_path / "many", list(CLASS_NAMES), 80, offset=5000)  # 800
    out = tmp_path / "results.parquet"
    job = subprocess.Popen(
        [sys.executable, "-m", "pocketvision.cli", "predict", str(trained.bundle), str(images),
         "--output", str(out), "--engine", "ray", "--ray-address", cluster, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + 300, None
    while killed is None and time.monotonic() < deadline:
        assert job.poll() is None, "the job finished before a worker could be killed"
        workers = [pid for pid in network_workers() if _busy_for(pid, seconds=1.0)]
        if workers:
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    assert killed is not None and job.poll() is None  # killed while the job ran
    stdout, stderr = job.communicate(timeout=600)
    assert job.returncode == 0, stderr
    assert killed not in network_workers()
    summary = json.loads(stdout)
    assert summary["written"] == 800 and summary["errors"] == 0
    table = ds.dataset(str(out), format="parquet").to_table()
    assert table.num_rows == 800 and len(set(table.column("path").to_pylist())) == 800


def _busy_for(pid: int, seconds: float) -> bool:
    """Whether the process has run for ``seconds`` (it is labelling by then)."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return False
    return uptime - ticks / os.sysconf("SC_CLK_TCK") >= seconds


def test_training_on_ray_writes_the_same_bundle(fashion3, tmp_path):
    """Without --ray-address: a private Ray instance on this machine, its own cache."""
    from pocketvision.model.bundle import read_tensors

    bundles = {}
    for engine in ("local", "ray"):
        env = {"POCKETVISION_CACHE_DIR": str(tmp_path / f"cache-{engine}")}
        done = run_cli("train", fashion3, "-o", tmp_path / f"{engine}.pvb", "--augment", "1",
                       "--engine", engine, "--json", env=env)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["features_computed"] == 35 * 3 * 2 + 15 * 3  # none came from a cache
        bundles[engine] = read_tensors(summary["bundle"])
    assert bundles["local"].keys() == bundles["ray"].keys()
    for name, tensor in bundles["local"].items():
        assert np.allclose(tensor, bundles["ray"][name], atol=1e-5), name


def test_engine_mistakes_are_user_errors(trained, fashion3, tmp_path):
    image = next((fashion3 / "val" / trained.classes[0]).iterdir())
    assert "--output" in user_error("predict", trained.bundle, image, "--engine", "ray")
    assert "--engine ray" in user_error("predict", trained.bundle, image, "--ray-address", "auto")
    assert "local or ray" in user_error("train", fashion3, "--engine", "spark")
    with socket.socket() as probe:  # a port nobody listens at
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    message = user_error("predict", trained.bundle, image, "--output", tmp_path / "out.parquet",
                         "--engine", "ray", "--ray-address", f"127.0.0.1:{port}")
    assert "ray start --head" in message and time.monotonic() - started < 60
    assert not (tmp_path / "out.parquet").exists()  # nothing started


def test_sigterm_stops_a_ray_run_cleanly_and_it_resumes(trained, tmp_path, cluster):
    images = write_few_shot(tmp_path / "many", list(CLASS_NAMES), 60, offset=3000)  # 600
    out = tmp_path / "results.parquet"
    job = subprocess.Popen(
        [sys.executable, "-m", "pocketvision.cli", "predict", str(trained.bundle), str(images),
         "--output", str(out), "--engine", "ray", "--ray-address", cluster],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not any(_busy_for(pid, 1.0) for pid in network_workers()) and time.monotonic() < deadline:
        assert job.poll() is None, "the job finished before it could be stopped"
        time.sleep(0.1)
    job.send_signal(signal.SIGTERM)  # mid-job: the network is labelling
    stdout, stderr = job.communicate(timeout=120)
    assert job.returncode == 143, (job.returncode, stderr)
    assert "stopped (SIGTERM)" in stderr
    assert "Fatal" not in stderr and "Aborted" not in stderr and "Stack trace" not in stderr
    again = run_cli("predict", trained.bundle, images, "--output", out, "--json")
    summary = json.loads(again.stdout)
    assert summary["done_before"] + summary["written"] == 600
    assert ds.dataset(str(out), format="parquet").to_table().num_rows == 600


def test_an_address_that_is_not_ray_is_one_line_in_seconds(trained, fashion3, tmp_path):
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        line = user_error("predict", trained.bundle, next((fashion3 / "val" / "sneaker").iterdir()),
                          "--output", tmp_path / "out.parquet", "--engine", "ray",
                          "--ray-address", f"127.0.0.1:{server.server_port}")
        assert "not as a Ray cluster does" in line and time.monotonic() - started < 30
    finally:
        server.shutdown()


def test_a_grpc_server_that_is_not_ray_and_bad_ports_are_one_line(trained, fashion3, tmp_path):
    """Hardening 3, item 12: a server that speaks HTTP/2 (gRPC) but is not Ray hung
    ray.init for more than 10 minutes; '127.0.0.1:-1' passed the port check; an IPv6
    address in brackets was 'Name or service not known'."""
    from concurrent.futures import ThreadPoolExecutor

    import grpc

    server = grpc.server(ThreadPoolExecutor(max_workers=1))  # no services at all
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    picture = next((fashion3 / "val" / "sneaker").iterdir())
    try:
        for address, expected in [(f"127.0.0.1:{port}", "not as a Ray cluster does"),
                                  ("127.0.0.1:-1", "is not a port number"),
                                  ("127.0.0.1:99999", "is not a port number"),
                                  ("[::1]:9", "no Ray cluster answers at [::1]:9")]:
            started = time.monotonic()
            line = user_error("predict", trained.bundle, picture, "--output", tmp_path / "o.parquet",
                              "--engine", "ray", "--ray-address", address)
            assert expected in line and time.monotonic() - started < 60, (address, line)
    finally:
        server.stop(None)

"""--engine ray on a real cluster of two nodes on this machine (``ray start --head`` on
127.0.0.1, a second node with ``ray start --address`` on 127.0.0.2, one CPU each),
one of which is killed mid-job, every process of it: the job finishes with every
image exactly once, and ``train`` writes the bundle a local run writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow.dataset as ds
import pytest
from conftest import run_cli
from fashion_mnist import CLASS_NAMES, write_few_shot
from ray_cluster import WORKER_NODE, add_worker_node, kill_node, node_processes, two_node_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with two_node_cluster() as address:
        yield address


def test_a_node_lost_mid_job_loses_and_repeats_no_row(trained, tmp_path, cluster):
    images = write_few_shot(tmp_path / "many", list(CLASS_NAMES), 250, offset=2500)  # 2,500
    out = tmp_path / "results.parquet"
    job = subprocess.Popen([sys.executable, "-m", "pocketvision.cli", "predict", str(trained.bundle),
                            str(images), "--output", str(out), "--engine", "ray", "--ray-address",
                            cluster, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline, killed = time.monotonic() + 300, 0
    while not killed and time.monotonic() < deadline:  # once the worker node has work
        assert job.poll() is None, "the job finished before the node could be killed"
        if len(node_processes(WORKER_NODE)) > 2 and out.exists() and any(out.glob("part-*")):
            killed = kill_node(WORKER_NODE)
        time.sleep(0.2)
    assert killed and job.poll() is None  # killed while the job ran
    try:
        stdout, stderr = job.communicate(timeout=900)
    finally:
        add_worker_node(cluster)  # for the next test
    assert job.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["written"] == 2500 and summary["errors"] == 0
    table = ds.dataset(str(out), format="parquet").to_table()
    assert table.num_rows == 2500 and len(set(table.column("path").to_pylist())) == 2500


def test_training_on_a_cluster_that_loses_a_node_writes_the_local_bundle(tmp_path, cluster):
    from pocketvision.model.bundle import read_tensors

    data = write_few_shot(tmp_path / "data", list(CLASS_NAMES)[:4], 150, offset=1500)
    local = run_cli("train", data, "-o", tmp_path / "local.pvb", "--json",
                    env={"POCKETVISION_CACHE_DIR": str(tmp_path / "cache-local")})
    assert local.returncode == 0, local.stderr
    job = subprocess.Popen([sys.executable, "-m", "pocketvision.cli", "train", str(data), "-o",
                            str(tmp_path / "ray.pvb"), "--engine", "ray", "--ray-address", cluster,
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=os.environ | {"POCKETVISION_CACHE_DIR": str(tmp_path / "cache-ray")})
    deadline, killed = time.monotonic() + 300, 0
    while not killed and time.monotonic() < deadline:
        assert job.poll() is None, "training finished before the node could be killed"
        if len(node_processes(WORKER_NODE)) > 3:  # the node runs decoding and network workers
            time.sleep(2)
            killed = kill_node(WORKER_NODE)
        time.sleep(0.2)
    try:
        stdout, stderr = job.communicate(timeout=900)
    finally:
        add_worker_node(cluster)
    assert killed and job.returncode == 0, stderr
    ours, theirs = read_tensors(tmp_path / "local.pvb"), read_tensors(tmp_path / "ray.pvb")
    assert ours.keys() == theirs.keys()
    for name, tensor in ours.items():
        assert np.allclose(tensor, theirs[name], atol=1e-5), name

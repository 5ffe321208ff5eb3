"""predict --output: streaming to Parquet part files or CSV, resumable by (path,
content hash), readable at any moment, the same answers as predict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli
from fashion_mnist import CLASS_NAMES, write_few_shot

pq = pytest.importorskip("pyarrow.parquet")


def read_rows(folder):
    import pyarrow.dataset as ds

    return ds.dataset(str(folder), format="parquet").to_table().to_pylist()


def test_rows_match_predict_and_a_second_run_adds_nothing(trained, fashion3, tmp_path):
    from pocketvision.inference.prediction import predict

    (fashion3_list := tmp_path / "list.txt").write_text(
        "\n".join(str(p) for p in sorted((fashion3 / "val" / "trouser").iterdir())[:5]))
    (tmp_path / "broken.png").write_text("not an image")
    sources = [fashion3 / "val" / "sneaker", f"@{fashion3_list}", str(fashion3 / "val" / "t-shirt" / "*.png"),
               tmp_path / "broken.png"]
    out = tmp_path / "results.parquet"
    done = run_cli("predict", trained.bundle, *sources, "--output", out, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["images"] == summary["written"] == 15 + 5 + 15 + 1 and summary["errors"] == 1
    rows = read_rows(out)
    assert len(rows) == 36 and len({r["path"] for r in rows}) == 36
    [broken] = [r for r in rows if r["error"]]
    assert broken["path"].endswith("broken.png") and broken["label"] is None
    expected = {e["path"]: e for e in predict(trained.bundle, [r["path"] for r in rows if not r["error"]])}
    for row in rows:
        if row["error"]:
            continue
        entry = expected[row["path"]]
        assert row["label"] == entry["label"]
        assert row["novelty"] == pytest.approx(entry["novelty"], abs=1e-5)
        best = max(entry["probabilities"].values())
        assert row["confidence"] == pytest.approx(best, abs=1e-5) and len(row["sha256"]) == 64
    assert json.loads(pq.read_schema(next(out.glob("part-*.parquet"))).metadata[b"pocketvision.labels"]) \
        == trained.classes

    again = json.loads(run_cli("predict", trained.bundle, *sources, "--output", out, "--json").stdout)
    assert again["written"] == 0 and again["done_before"] == 36
    assert len(read_rows(out)) == 36


def test_a_killed_run_resumes_without_losing_or_repeating_a_row(trained, tmp_path):
    images = write_few_shot(tmp_path / "many", list(CLASS_NAMES), 150, offset=3000)  # 1,500
    out = tmp_path / "results.parquet"
    command = [sys.executable, "-m", "pocketvision.cli", "predict", str(trained.bundle),
               str(images), "--output", str(out)]
    running = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline:
        assert running.poll() is None, "finished before it could be killed"
        time.sleep(0.05)
    os.kill(running.pid, signal.SIGKILL)  # mid-run: the next part is being filled
    running.wait()
    first = read_rows(out)  # readable at any moment: only complete parts
    assert 0 < len(first) < 1500
    done = subprocess.run(command + ["--json"], capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary["done_before"] == len(first) and summary["written"] == 1500 - len(first)
    rows = read_rows(out)
    assert len(rows) == 1500 and len({r["path"] for r in rows}) == 1500
    assert not list(out.glob(".part-*"))


def test_csv_output_cuts_a_half_written_line_and_resumes(trained, fashion3, tmp_path):
    import csv

    out = tmp_path / "results.csv"
    folder = fashion3 / "val" / "trouser"
    assert run_cli("predict", trained.bundle, folder, "--output", out).returncode == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:6]) + lines[6][:20])  # as a killed writer leaves it
    done = run_cli("predict", trained.bundle, folder, "--output", out, "--json")
    summary = json.loads(done.stdout)
    assert summary["done_before"] == 5 and summary["written"] == 10
    with open(out, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 15 and len({r["path"] for r in rows}) == 15
    assert all(r["label"] == "trouser" and len(json.loads(r["probabilities"])) == 3 for r in rows)


@pytest.mark.parametrize("pattern", ["*.png", "**/*.png", "a/*.jpg", "**", "a/**", "[ab]/*",
                                     "[!a]/*.png", "?/x?.png", "**/.h*", "a/**/deep.png", ".d/*"])
def test_glob_sources_list_what_glob_lists_without_links(pattern, tmp_path, monkeypatch):
    """Sources given as a pattern are the image files glob.glob(recursive=True) finds
    (pocketvision walks the folders itself so that links never loop)."""
    import glob

    from pocketvision.data.images import is_image_name
    from pocketvision.inference.bulk import source_paths

    for name in ("top.png", "a/x1.png", "a/x2.jpg", "a/b/c/deep.png", "b/xy.png", "b/.hidden.png",
                 "c/notes.txt", ".d/in-dot.png", "a/.e/in-dot.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    expected = sorted(p for p in glob.glob(pattern, recursive=True)
                      if os.path.isfile(p) and is_image_name(Path(p)))
    assert sorted(source_paths([pattern])) == expected
    absolute = str(tmp_path / pattern)
    assert sorted(source_paths([absolute])) == sorted(
        p for p in glob.glob(absolute, recursive=True) if os.path.isfile(p) and is_image_name(Path(p)))


def test_a_name_that_is_not_utf8_is_shown_the_same_way_everywhere(trained, fashion3, tmp_path):
    """One rule (errors.printable): the byte that is not UTF-8 is shown as the byte
    it is, by the data scan and by predict --output alike."""
    import csv

    from pocketvision.data.dataset import scan_folder

    data = tmp_path / "data"
    for label in trained.classes:
        (data / label).mkdir(parents=True)
        for source in sorted((fashion3 / "train" / label).iterdir())[:3]:
            (data / label / source.name).write_bytes(source.read_bytes())
    picture = next((fashion3 / "val" / trained.classes[0]).iterdir()).read_bytes()
    odd = os.fsencode(data / trained.classes[0]) + b"/caf\xff.png"
    with open(odd, "wb") as file:
        file.write(picture)

    [skipped] = scan_folder(data).skipped
    assert skipped["path"].endswith("caf\\xff.png") and "UTF-8" in skipped["reason"]
    done = run_cli("predict", trained.bundle, data / trained.classes[0], "--output", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as file:
        paths = [row["path"] for row in csv.DictReader(file)]
    assert [p for p in paths if "caf" in p][0].endswith("caf\\xff.png")

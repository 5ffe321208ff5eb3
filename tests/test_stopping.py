"""A stop asked for (SIGTERM, through cli.py) is raised at the next stop point of a
long loop, once, and leaves the next job to run normally."""

from __future__ import annotations

import pytest


class Asked(Exception):
    pass


def test_a_stop_is_raised_at_the_next_stop_point_once(fashion3):
    from pocketvision.data.dataset import scan_folder
    from pocketvision.stopping import ask_to_stop

    ask_to_stop(Asked())
    with pytest.raises(Asked):
        scan_folder(fashion3 / "train")
    assert len(scan_folder(fashion3 / "train").samples) > 0  # asked once, raised once


def test_sigterm_stops_the_cli_at_a_stop_point(fashion3, tmp_path):
    """The handler cli.py installs asks; the scan's loop raises; the CLI says so."""
    import subprocess
    import sys

    script = ("import os, signal, sys; from pocketvision import cli; "
              "signal.signal(signal.SIGTERM, cli._terminated); os.kill(os.getpid(), signal.SIGTERM); "
              "sys.argv = ['pocketvision', 'train', sys.argv[1], '--out', sys.argv[2]]; cli.main()")
    done = subprocess.run([sys.executable, "-c", script, str(fashion3 / "train"), str(tmp_path / "m.pvb")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "stopped (SIGTERM)" in done.stderr
    assert not (tmp_path / "m.pvb").exists()

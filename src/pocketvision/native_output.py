"""Silence what native libraries print straight to the terminal.

Converters and runtimes (LiteRT, ExecuTorch, XNNPACK) write progress lines and
CPU-probe chatter to file descriptors 1 and 2 from C++, bypassing Python; our
commands print one clean report instead. Errors still surface as exceptions.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def silenced():
    """Point fds 1 and 2 at /dev/null for the duration (Python's streams too)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def quiet_import(module: str):
    """Import a converter library without its import-time chatter (coremltools
    prints version warnings and proxy-load failures, torchao a pytree notice)."""
    import importlib
    import logging
    import warnings

    logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)
    logging.getLogger("coremltools").setLevel(logging.ERROR)
    with silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)

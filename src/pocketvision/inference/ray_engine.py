"""The bulk jobs on a Ray cluster: ``--engine ray [--ray-address ADDR]``.

Two jobs run here, each with the same answers as on this machine:

* labelling images for ``predict --output`` (:meth:`RayEngine.labelled_batches`);
* the backbone features of ``train`` (:meth:`RayEngine.forward_in_batches`).

Each is a Ray Data pipeline: image paths, read, hashed and decoded by Ray tasks on
every core of the cluster -> the network in a pool of actors, each loading the
model once (it travels in Ray's object store: the backbone's ONNX graph, the head,
the novelty data; nothing is read from this machine's cache) -> rows streamed back
to this process. Here they go through the same code as the local engine: the same
part files, the same resume logic, features into the same cache.

Why the rows are written here and not by the workers: Ray retries a task whose
worker died and restarts a dead actor, so a batch can be computed twice; writing
on one process (in whole, renamed part files) is what keeps every row exactly
once. A row is ~100 bytes against the ~600 KB an image is as the network's input,
so this process is not the bottleneck until many thousands of images per second.

What every node needs: pocketvision installed with the ``[scale]`` extra (the same
version), and the images at the same paths (a shared or synced folder).
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from pocketvision.errors import MissingExtraError, PocketVisionError, first_line, install_command
from pocketvision.features.extraction import Item, array_of
from pocketvision.features.graph import OnnxExtractor, runtime_session
from pocketvision.inference.bulk import BATCH, decode, label_rows  # BATCH: as predict --output
from pocketvision.inference.sinks import schema
from pocketvision.native_output import silenced

IMAGE = "image"  # column: the network's input as float32 bytes, empty when not to run


class GraphBytes:
    """A backbone graph that travels: its ONNX bytes, a session made where it runs
    (one thread: an actor per core is the parallelism)."""

    def __init__(self, graph: bytes, info):
        self.graph, self.info = graph, info
        self._session = None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if self._session is None:
            self._session = runtime_session(self.graph, threads=1)
        return self._session.run(None, {"image": np.ascontiguousarray(images, np.float32)})[0]

    def __getstate__(self):
        return {"graph": self.graph, "info": self.info, "_session": None}


def portable(extractor):
    """The extractor as something Ray can send to another machine."""

    if isinstance(extractor, OnnxExtractor):
        return GraphBytes(extractor.graph_bytes(), extractor.info)
    return extractor  # the eager PyTorch network pickles as it is


@dataclass
class RayEngine:
    """Where the work runs: ``address`` None starts a private Ray instance on this
    machine for the one job (all cores); ``auto`` or ``HOST:PORT`` joins a running
    cluster (``ray start --head``)."""

    address: str | None = None

    def labelled_batches(self, predictor, paths: list[str], done: set,
                         threshold: float) -> Iterator[tuple[list[dict], int]]:
        """(rows, images skipped as done before) per batch, as
        :func:`pocketvision.inference.bulk.labelled_batches`, computed on the cluster."""
        model = replace(predictor, extractor=portable(predictor.extractor))
        spec = predictor.preprocessing
        files = [{"path": path, "file": os.path.abspath(path)} for path in paths]
        batches = self._pipeline(files, (_decode_for_labels, (spec, done)),
                                 (_Labeller, (model, threshold, spec.crop)), "pyarrow")
        for batch in batches:
            rows = batch.to_pylist()
            fresh = [row for row in rows if not row.pop("done")]
            yield fresh, len(rows) - len(fresh)

    def forward_in_batches(self, extractor, spec, items: list) -> Iterator[tuple[list[int], np.ndarray]]:
        """(positions in ``items``, features (B, F)) per batch, in the order they
        finish, as :func:`pocketvision.features.extraction._forward_in_batches`."""
        rows = [{"position": k, "file": os.path.abspath(item.path), "sha256": item.sha256,
                 "view": item.view} for k, item in enumerate(items)]
        batches = self._pipeline(rows, (_decode_for_features, (spec,)),
                                 (_Features, (portable(extractor), spec.crop)), "numpy")
        for batch in batches:
            yield [int(k) for k in batch["position"]], batch["features"]

    def _pipeline(self, rows: list[dict], decode, network, batch_format: str) -> Iterator:
        """rows -> ``decode`` (function, its arguments) in Ray tasks -> ``network``
        (class, its constructor's arguments) in an actor pool -> batches here.
        Files are given as absolute paths: workers do not share our working folder."""
        ray = self.connect()
        cores = max(1, int(ray.cluster_resources().get("CPU", 1)))
        dataset = ray.data.from_items(rows).map_batches(
            decode[0], fn_args=decode[1], batch_size=BATCH, num_cpus=_DECODE_CPUS,
        ).map_batches(
            network[0], fn_constructor_args=network[1], batch_size=BATCH, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cores),  # one per core
            num_cpus=_NETWORK_CPUS,
        )
        try:
            yield from dataset.iter_batches(batch_size=None, batch_format=batch_format)
        except Exception as error:  # what our code raised on a worker, as the local engine would
            raise _our_error(error) or error

    # -- the cluster -------------------------------------------------------

    def connect(self):
        """Ray, started or joined (once per process); a user error when it cannot be."""
        # Ray reads these when it is imported
        _choose_authentication(self.address)
        # Ray's C++ core logs to stderr; what fails reaches us as an exception
        # (RAY_BACKEND_LOG_LEVEL=info shows it all when a cluster misbehaves)
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        ray = _ray()
        if not ray.is_initialized():
            self._check_reachable()

            ours = signal.getsignal(signal.SIGTERM)
            try:
                with silenced():  # start-up chatter from Ray's C++ core
                    ray.init(address=self.address or "local", include_dashboard=False,
                             log_to_driver=False, logging_level=logging.ERROR)
                # Ray installs its own SIGTERM handlers (a C++ stack dump, then an exit
                # raised wherever the driver happens to be); the command's stops a job
                # where it is safe to (cli.py), so it is put back
                if callable(ours):
                    signal.signal(signal.SIGTERM, ours)
            except (ConnectionError, RuntimeError, ValueError) as error:
                where = f"join the Ray cluster at {self.address}" if self.address \
                    else "start Ray on this machine"
                raise PocketVisionError(
                    f"cannot {where} ({first_line(error)}); "
                    "start one with `ray start --head` and pass the address it prints (a "
                    "cluster with token authentication, Ray's default, also needs its token "
                    "here: `ray get-auth-token` on the head, saved as ~/.ray/auth_token), or "
                    "leave out --ray-address to run Ray on this machine") from None
            _cluster_events_to_stderr()
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours is on stderr already
        context.enable_operator_progress_bars = False
        return ray

    def _check_reachable(self) -> None:
        """Fail in seconds on a HOST:PORT nobody listens at, or where something other
        than Ray's head answers (Ray itself keeps retrying for minutes, and hangs for
        good on a server that speaks HTTP/2 but is not Ray)."""
        import socket

        found = _host_and_port(self.address)
        if found is None:
            return  # None or "auto": Ray finds (or starts) the cluster itself
        host, port = found
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as error:
            raise PocketVisionError(
                f"no Ray cluster answers at {self.address} ({error.strerror or error}); start "
                "one with `ray start --head` and pass the address it prints, or leave out "
                "--ray-address to run Ray on this machine") from None
        if not _answers_as_ray(host, port):
            raise PocketVisionError(
                f"{self.address} answers, but not as a Ray cluster does (it is another kind "
                "of server: a web server, say); pass the address `ray start --head` prints")


def _host_and_port(address: str | None) -> tuple[str, int] | None:
    """(host, port) of a [ray://]HOST:PORT address (an IPv6 host in brackets); None
    for the words Ray resolves itself; a user error for anything else."""
    text = (address or "").removeprefix("ray://")
    if text in ("", "auto", "local"):
        return None
    host, colon, port = text.rpartition(":")
    if not colon or not host:
        raise PocketVisionError(f"--ray-address {address!r} is not HOST:PORT (the address "
                                "`ray start --head` prints, e.g. 192.168.1.20:6379)")
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise PocketVisionError(f"--ray-address {address!r}: {port!r} is not a port number "
                                "(1 to 65535)")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _answers_as_ray(host: str, port: int) -> bool:
    """Whether Ray's head (its GCS, a gRPC server) answers there: a cluster-id request
    gets a reply, or a refusal only a Ray head gives (authentication); a web server or
    another gRPC server answers 'unimplemented' or not in gRPC at all."""
    import grpc

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with grpc.insecure_channel(target) as channel:
        ask = channel.unary_unary("/ray.rpc.NodeInfoGcsService/GetClusterId")
        try:
            ask(b"", timeout=5)
            return True
        except grpc.RpcError as error:
            return error.code() in (grpc.StatusCode.UNAUTHENTICATED,
                                    grpc.StatusCode.PERMISSION_DENIED)


# Decoding asks for less than a core so it runs beside the networks rather than
# waiting for one to finish: reading and decoding is about a fifth of the work.
_DECODE_CPUS = 0.25
_NETWORK_CPUS = 0.75


def _decode_for_labels(batch: dict, spec, done: set) -> dict:
    """Read, hash and decode a batch of paths (a Ray task): columns path, sha256,
    error, done (in the output before: not run again) and the network's input."""
    columns = {"path": [], "sha256": [], "error": [], "done": [], IMAGE: []}
    shown = [str(path) for path in batch["path"]]
    for path, sha, decoded in decode(list(batch["file"]), spec, done, shown):
        skip = decoded is None  # done before: hashed, not decoded
        columns["path"].append(path)
        columns["sha256"].append(sha)
        columns["done"].append(skip)
        columns["error"].append(decoded if isinstance(decoded, str) else None)
        columns[IMAGE].append(b"" if skip or isinstance(decoded, str) else decoded.tobytes())
    return columns


class _Labeller:
    """The bundle's network in an actor, loaded once: rows as the local engine's
    (the same function makes them), plus ``done`` for rows not run again."""

    def __init__(self, predictor, threshold: float, crop: int):
        self.predictor, self.threshold, self.crop = predictor, threshold, crop

    def __call__(self, batch: dict):
        import pyarrow as pa

        entries = [(str(path), sha, _image(image, self.crop) if image else error)
                   for path, sha, error, done, image in zip(
                       batch["path"], batch["sha256"], batch["error"], batch["done"], batch[IMAGE])
                   if not done]
        rows = label_rows(self.predictor, entries, self.threshold)
        rows = [row | {"done": False} for row in rows] + [
            {"path": str(path), "sha256": sha, "done": True}
            for path, sha, done in zip(batch["path"], batch["sha256"], batch["done"]) if done]
        return pa.Table.from_pylist(rows, schema=schema().append(pa.field("done", pa.bool_())))


def _decode_for_features(batch: dict, spec) -> dict:
    """Decode a batch of training images (a Ray task), augmented views included."""

    images = [array_of(Item(Path(file), str(sha), int(view)), spec).tobytes()
              for file, sha, view in zip(batch["file"], batch["sha256"], batch["view"])]
    return {"position": batch["position"], IMAGE: images}


class _Features:
    """The backbone in an actor, loaded once: features of a decoded batch."""

    def __init__(self, extractor, crop: int):
        self.extractor, self.crop = extractor, crop

    def __call__(self, batch: dict) -> dict:
        images = np.stack([_image(image, self.crop) for image in batch[IMAGE]])
        return {"position": batch["position"], "features": self.extractor(images)}


def _image(data: bytes, crop: int) -> np.ndarray:
    return np.frombuffer(data, np.float32).reshape(3, crop, crop)


def _choose_authentication(address: str | None) -> None:
    """Ray's token authentication, as the cluster expects it (unless the user set
    RAY_AUTH_MODE): none for the private instance of one job; the token for a
    cluster named by HOST:PORT when this machine has one (Ray finds it for
    ``auto`` but not for an explicit address)."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    if address is None:
        os.environ["RAY_AUTH_MODE"] = "disabled"
    elif address != "auto" and (
            "RAY_AUTH_TOKEN" in os.environ or "RAY_AUTH_TOKEN_PATH" in os.environ
            or (Path.home() / ".ray" / "auth_token").is_file()):
        os.environ["RAY_AUTH_MODE"] = "token"


def _cluster_events_to_stderr() -> None:
    """Ray's driver prints cluster events ("a worker died ...") to stdout, which
    holds the result document (``--json``); send them to stderr with Ray's other
    messages. (A private function of Ray's: left alone if it is not there.)"""
    from ray._private import worker

    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "to_stderr", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool):
        return original(data | {"is_err": True}, ignore_prefix)

    to_stderr.to_stderr = True
    worker.print_to_stdstream = to_stderr


def _our_error(error: BaseException) -> PocketVisionError | None:
    """The user error (e.g. an image that cannot be read) inside a failure Ray reports."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, PocketVisionError):
            return error
        seen.add(id(error))
        error = getattr(error, "cause", None) or error.__cause__
    return None



def _ray():
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the part we use)
    except ImportError:
        raise MissingExtraError(f"--engine ray needs Ray: {install_command('scale')}") from None
    return ray

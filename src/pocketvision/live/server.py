"""The local web server behind ``play`` (and the studio): FastAPI on 127.0.0.1.

Pages and scripts come from the package (``pocketvision/web``), onnxruntime-web
included, so nothing is fetched from the internet and the pages work offline.
Only requests for this machine's own names, from the page's own origin, are
answered (HostGuard): a web page the user happens to have open elsewhere cannot
drive or read the local server, not even through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from pathlib import Path

from pocketvision.cache import default_cache_dir, file_sha256, write_atomically
from pocketvision.errors import MissingExtraError
from pocketvision.exports import export_artifact, get_format
from pocketvision.exports.onnx_format import composed_onnx
from pocketvision.exports.web_app import WEB, app_icon, game_actions, play_site
from pocketvision.features.graph import OnnxExtractor
from pocketvision.inference.predictor import load_predictor
from pocketvision.model.bundle import load_bundle, read_meta


def fastapi():
    try:
        import fastapi as module
    except ImportError:
        raise MissingExtraError.needing("the studio and the game need FastAPI", "live") from None
    return module


def base_app(title: str, host: str = "127.0.0.1"):
    """A FastAPI app with the package's web files at /web, serving only the host
    names it was started for (see HostGuard)."""
    from fastapi.staticfiles import StaticFiles

    app = fastapi().FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    guard = HostGuard(host)

    @app.middleware("http")
    async def local_pages_only(request, call_next):
        refusal = guard.refusal(request)
        if refusal is not None:
            return refusal
        response = await call_next(request)
        # cross-origin isolation: lets onnxruntime-web use SharedArrayBuffer threads
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Embedder-Policy"] = "require-corp"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    app.mount("/web", StaticFiles(directory=str(WEB)), name="web")
    icon = _png(app_icon(64))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():  # browsers ask for it whatever the page says
        return fastapi().Response(icon, media_type="image/png")

    return app


def _png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class HostGuard:
    """Which requests a local server answers.

    - **Host**: only the names it was started for: the loopback names, the
      ``--host`` given, and, when listening on every interface, IP addresses and
      this machine's name. A DNS-rebinding page reaches us under its own name
      (``evil.example``) and is refused before any handler runs; IP literals
      cannot be rebound.
    - **Origin**: a request a page sends (any method) must come from the page's
      own origin, i.e. ``scheme://`` + the (allowed) Host.
    - **Sec-Fetch-Site**: another site may link to the page, but not load its
      resources (``<img src=.../model.onnx>`` would start an export).
    """

    def __init__(self, host: str):
        self.names = set(LOOPBACK_NAMES) | {_normalize(host)}
        self.any_address = _normalize(host) in WILDCARD_HOSTS
        if self.any_address:
            self.names |= {_normalize(socket.gethostname()), _normalize(socket.gethostname()) + ".local"}

    def allows(self, host_header: str) -> bool:
        name = _normalize(_host_name(host_header))
        return name in self.names or (self.any_address and _is_ip(name))

    def refusal(self, request):
        from fastapi.responses import JSONResponse

        host = request.headers.get("host", "")
        if not self.allows(host):
            return JSONResponse({"error": f"host {host!r} refused: open this page as "
                                          "http://127.0.0.1:PORT/ (DNS rebinding protection)"},
                                status_code=421)
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{host}":
            return JSONResponse({"error": f"cross-origin request from {origin} refused"},
                                status_code=403)
        site = request.headers.get("sec-fetch-site", "same-origin")
        if site not in ("same-origin", "none") and request.headers.get("sec-fetch-mode") != "navigate":
            return JSONResponse({"error": f"{site} request refused"}, status_code=403)
        return None


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _host_name(host_header: str) -> str:
    """``[::1]:8765`` -> ``::1``; ``localhost:8765`` -> ``localhost``."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _normalize(name: str) -> str:
    return name.strip().strip("[]").rstrip(".").lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


_LIVE_EXPORT = threading.Lock()  # two page loads at once convert the model once


def onnx_for(bundle: Path) -> Path:
    """The bundle as ONNX for the pages, made once and kept beside the feature cache:
    assembled from its cached backbone graph and head (a fraction of a second, so a
    retrained model is live at once), or fully exported when its backbone has no graph."""

    folder = default_cache_dir() / "live-exports" / file_sha256(Path(bundle))[:16]
    path = folder / "model.onnx"
    with _LIVE_EXPORT:
        if not path.exists():
            predictor = load_predictor(bundle)
            if isinstance(predictor.extractor, OnnxExtractor):
                write_atomically(path, composed_onnx(predictor))
            else:
                export_artifact(get_format("onnx"), load_bundle(bundle), folder)
    return path


def game_app(bundle: Path, mappings: list[str], host: str = "127.0.0.1"):
    """``play``: the web app for the bundle (the phone studio, opening on its runner
    game; the model runs on the page), under /play/ so that its service worker,
    whose scope is that folder, never answers for the desktop studio on the same port."""
    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    actions = game_actions(read_meta(bundle).labels, mappings)  # a bad --map fails now
    site = play_site(Path(bundle), actions, default_cache_dir() / "play-sites")
    app = base_app("pocketvision play", host)

    @app.get("/")
    def start():
        return RedirectResponse("/play/")

    app.mount("/play", StaticFiles(directory=str(site), html=True), name="play")
    return app


def serve(app, host: str, port: int, https: bool = False) -> None:
    import uvicorn

    options = {}
    if https:
        options["ssl_certfile"], options["ssl_keyfile"] = self_signed_certificate()
    uvicorn.run(app, host=host, port=port, log_level="warning", **options)


def self_signed_certificate() -> tuple[str, str]:
    """A certificate for this machine's names, made once, for a phone's camera
    (browsers give cameras only to secure origins)."""
    import datetime
    import socket

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = default_cache_dir() / "https"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return str(cert), str(key)
    folder.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pocketvision local")])
    hosts = {"localhost", socket.gethostname()}
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                                  critical=False)
                   .sign(private, hashes.SHA256()))
    secret = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    key.unlink(missing_ok=True)
    with os.fdopen(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as stream:
        stream.write(secret)  # readable by this user only, from the first byte
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(cert), str(key)

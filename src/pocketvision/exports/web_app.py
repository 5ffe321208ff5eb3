"""The web app: the phone studio (collect, train, play) as a static, installable site.

``pocketvision web DIR`` writes one before any model exists; ``export --format web``
writes one around a bundle (``OUT/web/``), which then opens with that model. Any
static server can serve it (``python -m http.server --bind 127.0.0.1 --directory DIR``), or ``play
--https`` for a phone on the same network; after one visit it works offline.

Everything runs on the page: the backbone's ONNX graph (the very graph the CLI
runs, its tensors put inside the file: ``backbone.onnx``) in onnxruntime-web for features, the training recipe in
JavaScript (web/train-worker.js and the modules it imports, each the twin of a
Python module), and the model the page trains or opens is a ``.pvb`` bundle like
any other. ``backbone.json`` says which backbone that is: name, weights hash (a
bundle trained on the page names it instead of carrying the weights), feature size,
and the preprocessing and settings ``pocketvision train`` would use.

The service worker precaches every file of the site (the list and a version hash
are written into it here), answers from that cache, and adds the
cross-origin-isolation headers a plain static server does not send, so that
onnxruntime-web runs on several threads. It touches only its own caches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pocketvision.actions import parse_mapping
from pocketvision.backbones import get_spec
from pocketvision.cache import file_sha256, write_atomically
from pocketvision.config import VERSION, TrainConfig
from pocketvision.data.dataset import MIN_CLASSES, MIN_IMAGES_PER_CLASS
from pocketvision.errors import ExportError, LiveError, WeightsUnavailableError
from pocketvision.features.graph import OnnxExtractor, pretrained_extractor, self_contained_graph
from pocketvision.inference.predictor import load_predictor
from pocketvision.model.bundle import read_meta, write_slim_bundle

# The pages' files (web/ in the package): what `play` and the studio serve, and
# what the web app copies, at the same relative paths. Its folders say what each file
# is: app/ (the views and their plumbing), recipe/ (the twins of the Python recipe),
# client/ (for other people's pages: not part of a site) and vendor/ (onnxruntime-web).
WEB = Path(str(files("pocketvision") / "web"))
GAME_ACTIONS = ("jump", "duck")
SITE_FOLDERS = ("app", "recipe", "vendor")
TEMPLATES = ("app/app.html", "app/sw-template.js")  # filled in (index.html, sw.js), not copied


def _page_files() -> tuple[str, ...]:
    """Every file of the site's folders of web/, relative to web/ (sorted, so that a
    site's service worker lists them in the same order everywhere)."""
    found = (path.relative_to(WEB).as_posix() for folder in SITE_FOLDERS
             for path in (WEB / folder).rglob("*") if path.is_file())
    return tuple(sorted(name for name in found if name not in TEMPLATES))


# The phone studio's own files; tests/exports/test_web_app_files.py checks that
# every module app.js imports (and every worker it starts) is here.
PAGE_FILES = _page_files()
ICON_SIZES = (192, 512)
# What a site holds beside web/ and its model; sw.js last (see site_files).
SITE_ROOT_FILES = ("backbone.onnx", "backbone.json", "config.json",
                   *(f"icon-{size}.png" for size in ICON_SIZES), "manifest.webmanifest",
                   "index.html", "sw.js")
ACCENT = (59, 91, 219)  # --accent in style.css
SHARE_TARGET = "share-target"  # where the share sheet posts a model (sw-template.js answers)


@dataclass(frozen=True)
class SiteBackbone:
    """The backbone a site runs: its ONNX graph and what the page needs to know."""

    graph: Path  # backbone.onnx: images (B, 3, H, W), normalized -> features (B, F)
    info: dict  # backbone.json


def pretrained_site_backbone(name: str) -> SiteBackbone:
    """A registered backbone with its pretrained weights (built once, cached)."""
    config = TrainConfig(backbone=name)
    spec = get_spec(name).preprocessing.with_crop_fraction(config.crop_fraction)
    extractor = pretrained_extractor(name)
    return _site_backbone(extractor, spec, config, pretrained=True)


def bundle_site_backbone(bundle: Path) -> SiteBackbone:
    """The backbone of a bundle: the pretrained one when its weights are unchanged,
    else its own (fine-tuned) graph, on which the page can still train."""
    meta, predictor = read_meta(bundle), load_predictor(bundle)
    pretrained = _is_pretrained(meta.backbone.name, predictor.extractor.info.weights_hash)
    return _site_backbone(predictor.extractor, meta.preprocessing, _page_settings(meta), pretrained)


def _page_settings(meta) -> TrainConfig:
    """The bundle's training settings that the page's recipe has (no augmented
    views, no fine-tuning: those need PyTorch)."""
    kept = ("val_fraction", "seed", "crop_fraction", "weight_decay", "std_floor", "max_iterations")
    return TrainConfig(backbone=meta.backbone.name,
                       **{k: meta.training[k] for k in kept if k in meta.training})


def _is_pretrained(name: str, weights_hash: str) -> bool:
    try:
        return pretrained_extractor(name).info.weights_hash == weights_hash
    except WeightsUnavailableError:
        return False


def _site_backbone(extractor, preprocessing, config: TrainConfig, pretrained: bool) -> SiteBackbone:
    if not isinstance(extractor, OnnxExtractor):
        raise ExportError(f"{extractor.info.name} has no ONNX graph (its exporter failed), so "
                          "it cannot run in a browser; choose another backbone")
    info = {"name": extractor.info.name, "weights_hash": extractor.info.weights_hash,
            "feature_dim": extractor.info.feature_dim, "pretrained": pretrained,
            "preprocessing": preprocessing.to_dict(), "training": config.to_dict(),
            "min_images_per_class": MIN_IMAGES_PER_CLASS, "min_classes": MIN_CLASSES,
            "version": VERSION}
    return SiteBackbone(extractor.folder / "backbone.onnx", info)


def write_web_app(site: Path, backbone: SiteBackbone, actions: dict | None = None,
                  bundle: Path | None = None, play: dict | None = None,
                  start: str | None = None) -> Path:
    """Write the phone studio into ``site`` and return ``site``. ``bundle``: the model
    it opens first (a slim copy when its backbone is the pretrained one), played as
    ``play`` says (see play_config); ``start``: the view it opens on (by default the
    game when the site carries a model, else Collect)."""
    start = start or ("play" if bundle is not None else "collect")
    for name in PAGE_FILES:
        target = site / "web" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WEB / name, target)
    write_atomically(site / "backbone.onnx", self_contained_graph(backbone.graph))
    _write_json(site / "backbone.json", backbone.info)
    model = None
    if bundle is not None:
        model = "model.pvb"
        if backbone.info["pretrained"]:
            write_slim_bundle(bundle, site / model)
        else:  # a fine-tuned backbone travels with its head
            shutil.copyfile(bundle, site / model)
    # model_sha256: a phone that kept an earlier site's model replaces it with this one
    _write_json(site / "config.json", {"actions": actions or {}, "model": model, "play": play,
                                       "model_sha256": model and file_sha256(site / model),
                                       "backbone": "backbone.json", "graph": "backbone.onnx",
                                       "start": start})
    for size in ICON_SIZES:
        app_icon(size).save(site / f"icon-{size}.png")
    _write_json(site / "manifest.webmanifest", _manifest())
    page = (WEB / "app" / "app.html").read_text().replace("<!--pwa-->", INSTALL_TAGS)
    write_atomically(site / "index.html", page.encode())
    _write_service_worker(site)
    return site


def set_play(site: Path, play: dict) -> None:
    """Rewrite a written site's play settings (``config.json``) and its service
    worker, which precaches every file by content; the rest stays as it is (the
    export learns the game model's agreement only once the site is verified)."""
    config = json.loads((site / "config.json").read_text())
    _write_json(site / "config.json", config | {"play": play})
    _write_service_worker(site)


def site_files(site: Path) -> list[str]:
    """The files a written site consists of, relative to it, sw.js last: only what
    write_web_app writes, never whatever else the folder holds (a user's .git/,
    CNAME, photos/ are neither precached nor replaced)."""
    return _files_of_site(json.loads((site / "config.json").read_text()).get("model"))


def _files_of_site(model: str | None) -> list[str]:
    return [*(f"web/{name}" for name in PAGE_FILES), *([model] if model else []), *SITE_ROOT_FILES]


def _write_service_worker(site: Path) -> None:
    cached = [name for name in site_files(site) if name != "sw.js"]
    write_atomically(site / "sw.js", _service_worker(site, ["./", *cached]).encode())


def write_new_web_app(site: Path, backbone: str) -> dict:
    """``pocketvision web SITE``: the phone studio before any model exists. A new
    folder is written beside ``site`` and moved into place whole; over a previous
    web app (a GitHub Pages checkout, say) only the files the site writes are
    replaced, each atomically and sw.js last, and everything else in it stays; any
    other folder with files in it is refused. A link is followed to its folder."""
    site = _site_folder(Path(site))
    chosen = pretrained_site_backbone(backbone)  # missing weights fail before any file
    if site.exists():
        _update_site(site, chosen)
    else:
        site.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{site.name}-", dir=site.parent))
        staging.chmod(0o755)  # mkdtemp's 0700 would travel with the folder
        try:
            write_web_app(staging, chosen)
            staging.rename(site)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    sizes = [(site / name).stat().st_size for name in site_files(site)]
    return {"site": str(site), "backbone": backbone, "files": len(sizes), "bytes": sum(sizes)}


def _site_folder(site: Path) -> Path:
    """Where ``web SITE`` writes: the folder a link points to, ``.`` as the folder it
    names; refused when it is a file or a folder of other things."""
    if site.is_symlink() and not site.exists():
        raise ExportError(f"{site} is a link to {os.readlink(site)}, which does not exist; "
                          "create that folder, or choose another folder for the web app")
    site = site.resolve()
    if site.exists() and not site.is_dir():
        raise ExportError(f"{site} is a file; choose a folder for the web app")
    if site.exists() and any(site.iterdir()) and not _is_web_app(site):
        raise ExportError(f"{site} is not empty and not a pocketvision web app; choose a new "
                          "folder for the web app")
    return site


def _update_site(site: Path, backbone: SiteBackbone) -> None:
    """Write the site into a staging folder inside ``site``, then move each of its
    files over the old one: a crash leaves a working site (the old service worker
    until sw.js, moved last, is replaced)."""
    in_the_way = [name for name in _files_of_site(None) if _not_a_plain_file(site, name)]
    if in_the_way:
        raise ExportError(f"{site} has {', '.join(in_the_way)} where the web app writes a file "
                          "(a link or a folder); move it away and run web again")
    staging = Path(tempfile.mkdtemp(prefix=".pocketvision-staging-", dir=site))
    try:
        write_web_app(staging, backbone)
        for name in site_files(staging):
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, site / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _not_a_plain_file(site: Path, name: str) -> bool:
    """Whether ``site/name`` or a folder on the way to it is a link, or it is a folder."""
    path = site
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            return True
    return path.exists() and not path.is_file()


def play_site(bundle: Path, actions: dict, root: Path) -> Path:
    """The web app ``play`` serves for ``bundle``: written once under ``root`` (the
    cache) per bundle and action map, opening on the game."""
    key = hashlib.sha256(file_sha256(bundle).encode() + json.dumps(actions, sort_keys=True)
                         .encode() + VERSION.encode()).hexdigest()[:16]
    site = root / key
    if not _is_web_app(site):
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        try:
            write_web_app(staging, bundle_site_backbone(bundle), actions, bundle, start="play")
            _replace_folder(staging, site)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return site


def _is_web_app(folder: Path) -> bool:
    return (folder / "backbone.json").is_file() and (folder / "sw.js").is_file()


def _replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` where ``target`` is, the old one removed only once the new is there."""
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def play_config(spec, novelty, agreement: dict | None = None) -> dict:
    """How the page plays the site's own model: frames prepared at ``spec`` (the game's
    input size), unknown detection calibrated at that size (scale and threshold), and
    how often that model gave the bundle's answer (``{"top1", "images"}``, the page
    shows it to the player)."""
    return {"resize": spec.resize, "crop": spec.crop, "agreement": agreement,
            "novelty": None if novelty is None else {"scale": novelty.scale,
                                                     "threshold": novelty.threshold}}


INSTALL_TAGS = """<link rel="manifest" href="manifest.webmanifest">
<link rel="icon" href="icon-192.png">
<link rel="apple-touch-icon" href="icon-192.png">
<script>
  // Installable and offline: the service worker caches the whole site. On the first
  // visit, once it is in charge, the page reloads, so it is cross-origin isolated and
  // the model can use threads; but never under a person already using it (a half-typed
  // name, a burst being recorded): then the next visit has the threads.
  if ("serviceWorker" in navigator) {
    const first = !navigator.serviceWorker.controller;
    let used = false;
    for (const event of ["pointerdown", "keydown"]) addEventListener(event, () => { used = true; }, { capture: true, once: true });
    navigator.serviceWorker.register("sw.js").then(() => {
      if (first) navigator.serviceWorker.addEventListener("controllerchange",
        () => { if (!used) location.reload(); }, { once: true });
    });
  }
</script>"""


def _manifest() -> dict:
    return {"name": "pocketvision", "short_name": "pocketvision",
            "description": "Teach your phone to see: collect pictures, train, and play a "
                           "runner game with your own classifier, offline.",
            "start_url": ".", "scope": ".", "display": "standalone", "orientation": "any",
            "background_color": "#f5f7fb", "theme_color": "#3b5bdb",
            "icons": [{"src": f"icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                       "purpose": "any maskable"} for size in ICON_SIZES],
            # the installed app opens .pvb files, and takes them from the share sheet
            # (sw-template.js keeps a shared file for the page: files.js opens both)
            "file_handlers": [{"action": ".", "accept": {"application/octet-stream": [".pvb"]}}],
            "share_target": {"action": SHARE_TARGET, "method": "POST", "enctype": "multipart/form-data",
                             "params": {"files": [{"name": "model", "accept": [".pvb", "application/octet-stream"]}]}}}


def _service_worker(site: Path, site_files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in site_files[1:]:
        digest.update(name.encode() + (site / name).read_bytes())
    template = (WEB / "app" / "sw-template.js").read_text()
    return (template.replace("__VERSION__", digest.hexdigest()[:16])
            .replace("__FILES__", json.dumps(site_files)).replace("__SHARE_TARGET__", json.dumps(SHARE_TARGET)))


def game_actions(labels: list[str], mappings: list[str]) -> dict[str, dict]:
    """label -> {key: jump|duck, mode}: from --map, else classes named up/down, else
    nothing (the page then lets the player pick, and remembers the choice)."""
    if not mappings:
        mappings = [m for m in ("up=jump", "down=duck") if m.split("=")[0] in labels]
    if not mappings:
        return {}
    chosen = {}
    for label, action in parse_mapping(mappings, labels).items():  # `control`'s --map rules
        if action.key not in GAME_ACTIONS:
            raise LiveError(f"--map {label}={action.key}: the game's actions are jump and duck")
        chosen[label] = {"key": action.key, "mode": "tap" if action.key == "jump" else "hold"}
    return chosen


def app_icon(size: int):
    """A round-cornered accent square with a white runner's head: our own drawing."""
    from PIL import Image, ImageDraw

    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=ACCENT)
    body = (size * 0.32, size * 0.28, size * 0.68, size * 0.72)
    draw.rounded_rectangle(body, radius=size // 10, fill="white")
    eye = (size * 0.54, size * 0.36, size * 0.62, size * 0.44)
    draw.ellipse(eye, fill=ACCENT)
    return icon


def _write_json(path: Path, document: dict) -> None:
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False).encode())

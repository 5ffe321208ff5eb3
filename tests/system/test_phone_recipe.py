"""One recipe, two languages: each step the phone studio takes in the browser against
the Python step it ports, on the same real pictures (Fashion-MNIST, stored by the
page as it stores a gallery photo: a JPEG with its shorter side at 224 px).

The page's modules run in headless Chromium, unchanged, from a site written by
``pocketvision web``: preprocessing (Pillow's resize, the crop, normalization),
the difference hash, Python's random numbers, the split by capture burst, the
backbone's features in onnxruntime-web, the head and unknown detection fitted in
the training worker, and the bundle file read and checked."""

from __future__ import annotations

import base64
import json
import random
import shutil

import numpy as np
import pytest
from browser import browser_available, chromium_page, static_server
from conftest import SAMPLE_CLASSES, sample_dir
from PIL import Image

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")

PER_CLASS = 30  # pictures per class: two bursts of 13 and 4 photos on their own


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from pocketvision.exports.web_app import write_new_web_app

    root = tmp_path_factory.mktemp("phone-site") / "site"
    write_new_web_app(root, "efficientnet_lite0")
    (root / "blank.html").write_text("<!doctype html><title>modules</title>")
    for label in SAMPLE_CLASSES:  # the photos the page will "pick from the gallery"
        shutil.copytree(sample_dir() / label, root / "photos" / label)
    return root


@pytest.fixture(scope="module")
def page(site):
    with static_server(site) as url, chromium_page() as page:
        page.goto(f"{url}/blank.html")
        yield page
        assert page.outside_requests == []


@pytest.fixture(scope="module")
def pictures(page, site, tmp_path_factory) -> list[dict]:
    """The page stores each photo as it stores a gallery pick, then names most of
    them as frames of two bursts per class; the same bytes go into a folder for
    the CLI, as "Download pictures" unpacks."""
    photos = {label: sorted(p.name for p in (site / "photos" / label).iterdir())[:PER_CLASS]
              for label in SAMPLE_CLASSES}
    stored = page.evaluate("""async (photos) => {
      const camera = await import("./web/app/camera.js");
      const out = [];
      for (const [label, names] of Object.entries(photos)) {
        const sessions = [camera.newSession(), camera.newSession() + "b"];
        for (const [i, name] of names.entries()) {
          const blob = await (await fetch(`photos/${label}/${name}`)).blob();
          let picture = await camera.photoPicture(blob, 224);
          if (i < 26) picture = await camera.described(picture, camera.frameName(sessions[i % 2], i));
          const bytes = new Uint8Array(await picture.blob.arrayBuffer());
          let text = ""; for (const b of bytes) text += String.fromCharCode(b);
          out.push({ label, name: picture.name, sha256: picture.sha256, width: picture.width,
                     height: picture.height, dhash: picture.dhash && Array.from(picture.dhash),
                     data: btoa(text) });
        }
      }
      return out;
    }""", photos)
    folder = tmp_path_factory.mktemp("downloaded") / "pictures"
    for p in stored:
        (folder / p["label"]).mkdir(parents=True, exist_ok=True)
        p["path"] = folder / p["label"] / p["name"]
        p["path"].write_bytes(base64.b64decode(p["data"]))
    return stored


def test_pictures_are_stored_at_the_size_both_sides_decode_alike(pictures):
    assert len(pictures) == PER_CLASS * len(SAMPLE_CLASSES)
    for p in pictures:
        with Image.open(p["path"]) as image:
            assert image.format == "JPEG" and min(image.size) == 224 == min(p["width"], p["height"])


def test_preprocessing_is_pythons_to_1_255(page, pictures):
    """Stored pictures (no resize) and pictures the page must resize (a 28-px PNG
    up, a 640 x 480 photo down): imaging.toInput against data.preprocessing."""
    from pocketvision.data.images import load_rgb
    from pocketvision.data.preprocessing import Preprocessing, to_array

    spec = Preprocessing(224, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    for path, url in [(pictures[0]["path"], None), (pictures[-1]["path"], None),
                      (sample_dir() / "sneaker" / sorted((sample_dir() / "sneaker").iterdir())[0].name,
                       "photos/sneaker/" + sorted((sample_dir() / "sneaker").iterdir())[0].name)]:
        data = base64.b64encode(path.read_bytes()).decode()
        theirs = np.array(page.evaluate("""async ([data, spec]) => {
          const imaging = await import("./web/recipe/imaging.js");
          const blob = new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))]);
          return Array.from(imaging.toInput(await imaging.decode(blob), spec));
        }""", [data, spec.to_dict()]), np.float32)
        ours = to_array(load_rgb(path, at_least=224), spec).ravel()
        pixels = np.abs(theirs - ours).reshape(3, -1) * np.array(spec.std)[:, None]
        assert pixels.max() <= 1 / 255 + 1e-6, path


def test_resizing_is_pillows_pixel_for_pixel(page):
    """imaging.resize on raw pixels (no decoder in between) equals Pillow's bilinear."""
    rng = np.random.default_rng(7)
    for source, size in (((28, 28), (224, 224)), ((640, 480), (299, 224)), ((97, 131), (17, 16))):
        pixels = rng.integers(0, 256, (source[1], source[0], 4), dtype=np.uint8)
        theirs = np.array(page.evaluate("""async ([data, w, h, tw, th]) => {
          const imaging = await import("./web/recipe/imaging.js");
          const image = { width: w, height: h, data: Uint8ClampedArray.from(data) };
          return Array.from(imaging.resize(image, tw, th).data);
        }""", [pixels.ravel().tolist(), *source, *size]), np.uint8).reshape(size[1], size[0], 4)
        ours = np.asarray(Image.fromarray(pixels[..., :3]).resize(size, Image.Resampling.BILINEAR,
                                                                 reducing_gap=None))
        assert np.array_equal(theirs[..., :3], ours), (source, size)


def test_difference_hashes_are_pythons(pictures):
    from pocketvision.data.dataset import HASH_DECODE_SIZE
    from pocketvision.data.grouping import difference_hash
    from pocketvision.data.images import load_rgb

    alone = [p for p in pictures if p["dhash"] is not None]
    assert len(alone) == 4 * len(SAMPLE_CLASSES)
    for p in alone:
        ours = difference_hash(load_rgb(p["path"], at_least=HASH_DECODE_SIZE))
        assert bytes(p["dhash"]) == ours, p["name"]


def test_python_random_is_drawn_as_python_draws_it(page):
    for seed in (0, 1, 2**32 + 5):
        items = list(range(40))
        theirs = page.evaluate("""async ([seed, items]) => {
          const { PythonRandom } = await import("./web/recipe/split.js");
          const rng = new PythonRandom(seed); rng.shuffle(items); rng.shuffle(items); return items;
        }""", [seed, items])
        ours = items[:]
        rng = random.Random(seed)
        rng.shuffle(ours)
        rng.shuffle(ours)
        assert theirs == ours, seed


def test_the_split_is_the_clis(page, pictures):
    from pocketvision.data.dataset import load_split

    split = load_split(pictures[0]["path"].parent.parent)
    theirs = page.evaluate("""async (pictures) => {
      const split = await import("./web/recipe/split.js");
      const samples = pictures.map((p) => ({ ...p, dhash: p.dhash && Uint8Array.from(p.dhash) }));
      const { train, val } = split.splitByGroup(split.assignGroups(samples), 0.2, 0);
      return { train: train.map((p) => p.sha256).sort(), val: val.map((p) => p.sha256).sort() };
    }""", [_sample(p) for p in pictures])
    assert theirs["val"] == sorted(s.sha256 for s in split.val)
    assert theirs["train"] == sorted(s.sha256 for s in split.train)
    assert 0 < len(theirs["val"]) < len(pictures)


@pytest.fixture(scope="module")
def page_features(page, pictures, site) -> np.ndarray:
    """Features of every stored picture from the page's backbone worker
    (onnxruntime-web on the site's backbone.onnx)."""
    spec = json.loads((site / "backbone.json").read_text())["preprocessing"]
    return np.array(page.evaluate("""async ([pictures, spec]) => {
      const { Backbone } = await import("./web/app/model-client.js");
      const backbone = new Backbone(new URL("backbone.onnx", location.href).href, 1);
      const blobs = pictures.map((p) => new Blob([Uint8Array.from(atob(p.data), (c) => c.charCodeAt(0))]));
      return (await backbone.pictures(blobs, spec)).map((f) => Array.from(f));
    }""", [[{"data": p["data"]} for p in pictures], spec]), np.float32)


def test_features_are_the_clis(page_features, pictures):
    from pocketvision.backbones import get_spec
    from pocketvision.data.dataset import Sample
    from pocketvision.features import pretrained_extractor, sample_features

    spec = get_spec("efficientnet_lite0").preprocessing.with_crop_fraction(1.0)
    extractor = pretrained_extractor("efficientnet_lite0")
    ours = sample_features(extractor, spec, [Sample(p["path"], p["label"], p["sha256"])
                                             for p in pictures])
    assert np.abs(page_features - ours).max() <= 1e-3


def test_the_training_worker_fits_the_clis_model(page, pictures, page_features, tmp_path):
    """The same split, head probabilities within 0.02 on every held-out picture,
    the same novelty threshold rule, the same metrics (the head fitted on the
    page's features; the CLI's on its own)."""
    from pocketvision.inference import load_predictor
    from pocketvision.training import train

    result = train(pictures[0]["path"].parent.parent, tmp_path / "cli.pvb")
    cli = load_predictor(result.bundle)
    theirs = page.evaluate("""async ([pictures, features, classes]) => {
      const { trainRecipe } = await import("./web/recipe/train-worker.js");
      const { probabilities } = await import("./web/recipe/head.js");
      const { score } = await import("./web/recipe/novelty.js");
      const samples = pictures.map((p, i) => ({ ...p, dhash: p.dhash && Uint8Array.from(p.dhash),
                                                features: Float32Array.from(features[i]) }));
      const settings = { val_fraction: 0.2, seed: 0, weight_decay: 0.05, max_iterations: 200, std_floor: 1.0 };
      const r = trainRecipe({ pictures: samples, classes, settings });
      const val = r.val.map((v) => samples.find((s) => s.sha256 === v.sha256));
      return { val: r.val.map((v) => v.sha256), metrics: r.metrics, scale: r.novelty.scale,
               threshold: r.novelty.threshold, bank: r.novelty.bank.length,
               probabilities: val.map((s) => probabilities(r.head, s.features)),
               novelty: val.map((s) => score(r.novelty, s.features, probabilities(r.head, s.features))) };
    }""", [[_sample(p) for p in pictures], page_features.tolist(), SAMPLE_CLASSES])
    by_sha = {p["sha256"]: p for p in pictures}
    assert sorted(theirs["val"]) == sorted(s.sha256 for s in result.split.val)
    ours, ours_novelty = cli.classify(np.stack([
        _prepared(by_sha[sha]["path"], cli.preprocessing) for sha in theirs["val"]]))
    difference = np.abs(np.array(theirs["probabilities"]) - ours).max()
    agreement = (np.array(theirs["probabilities"]).argmax(1) == ours.argmax(1)).mean()
    assert agreement >= 0.98 and difference <= 0.02, (agreement, difference)
    assert np.abs(np.array(theirs["novelty"]) - ours_novelty).max() <= 0.02
    assert theirs["bank"] == cli.novelty.bank.shape[0]
    assert theirs["threshold"] == pytest.approx(cli.novelty.threshold, rel=0.02)
    assert theirs["scale"] == pytest.approx(cli.novelty.scale, rel=0.02)
    assert theirs["metrics"]["accuracy"] == result.metrics["accuracy"]
    assert theirs["metrics"]["confusion"] == result.metrics["confusion"]
    assert theirs["metrics"]["ece"] == pytest.approx(result.metrics["ece"], abs=0.02)
    assert theirs["metrics"]["novelty_rejected"] == pytest.approx(
        result.metrics["novelty_rejected"], abs=1.5 / len(theirs["val"]))


def test_bundles_from_the_cli_open_and_damaged_ones_are_refused(page, trained, tmp_path, site):
    """Both kinds of CLI bundle open on the page; a damaged one, one of another
    backbone's weights and a file that is no bundle are refused with a sentence."""
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle, write_slim_bundle

    slim = write_slim_bundle(trained.bundle, tmp_path / "slim.pvb")
    meta, tensors = read_meta(slim), read_tensors(slim)
    other = write_bundle(tmp_path / "other.pvb", tensors, meta.replace(
        backbone=meta.backbone.__class__(meta.backbone.name, "f" * 64, 1280)))
    cut = tmp_path / "cut.pvb"
    cut.write_bytes(slim.read_bytes()[:-100])
    garbage = tmp_path / "garbage.pvb"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    answers = {}
    for name, path in [("whole", trained.bundle), ("slim", slim), ("other", other), ("cut", cut),
                       ("garbage", garbage)]:
        answers[name] = page.evaluate("""async ([data]) => {
          const file = await import("./web/recipe/bundle-file.js");
          const backbone = await (await fetch("backbone.json")).json();
          try {
            const model = await file.playableModel(file.readBundle(
              Uint8Array.from(atob(data), (c) => c.charCodeAt(0)).buffer), backbone);
            return { labels: model.labels, bank: model.novelty.bank.length };
          } catch (error) { return { error: error.message, bundleError: error instanceof file.BundleError }; }
        }""", [base64.b64encode(path.read_bytes()).decode()])
    assert answers["whole"] == answers["slim"] == {"labels": trained.classes,
                                                   "bank": len(trained.split.train)}
    assert answers["other"]["bundleError"] and "weights are not the ones" in answers["other"]["error"]
    assert answers["cut"]["bundleError"] and "damaged" in answers["cut"]["error"]
    assert answers["garbage"]["bundleError"] and "not a pocketvision model" in answers["garbage"]["error"]


def _sample(p: dict) -> dict:
    return {"name": p["name"], "label": p["label"], "sha256": p["sha256"], "dhash": p["dhash"]}


def _prepared(path, spec):
    from pocketvision.data.preprocessing import load_array

    return load_array(path, spec)


def test_one_rule_for_a_bundle_on_both_sides(page, trained, tmp_path):
    """Hardening 3, items 6, 7, 13, 14: every hand-made bundle of the shared hostile set
    is refused by the CLI's reader and by the page's, each with a sentence, and the
    page stores none of them (it checks before it keeps)."""
    from hostile_bundles import hostile_bundles

    from pocketvision.errors import BundleError
    from pocketvision.inference.predictor import load_predictor
    from pocketvision.model.bundle import write_slim_bundle

    slim = write_slim_bundle(trained.bundle, tmp_path / "slim.pvb")
    refused = {}
    for name, path in hostile_bundles(slim, tmp_path / "hostile").items():
        with pytest.raises(BundleError) as cli:
            load_predictor(path)
        page_answer = page.evaluate(OPEN_ON_THE_PAGE, [base64.b64encode(path.read_bytes()).decode()])
        refused[name] = (str(cli.value), page_answer)
    for name, (cli_message, page_answer) in refused.items():
        assert "\n" not in cli_message and len(cli_message) < 400, (name, cli_message)
        assert page_answer.get("bundleError"), (name, page_answer)
        assert len(page_answer["error"]) < 400, (name, page_answer)


OPEN_ON_THE_PAGE = """async ([data]) => {
  const file = await import("./web/recipe/bundle-file.js");
  const backbone = await (await fetch("backbone.json")).json();
  try {
    const model = await file.playableModel(file.readBundle(
      Uint8Array.from(atob(data), (c) => c.charCodeAt(0)).buffer), backbone);
    return { labels: model.labels };
  } catch (error) { return { error: String(error.message), bundleError: error instanceof file.BundleError }; }
}"""


def test_download_pictures_keeps_any_class_name_through_unzip(page, tmp_path):
    """Item 14: "Download pictures" names class folders in any script, emoji included
    (outside the BMP), and Debian's unzip unpacks them as written, so train takes them."""
    import subprocess

    names = ["😀 happy/frame-1.jpg", "café/a.jpg", "手/b.jpg"]
    data = page.evaluate("""async (names) => {
      const { zipBlob } = await import("./web/app/zip.js");
      const entries = names.map((name, i) => ({ name, bytes: new Uint8Array([i, 1, 2, 3]) }));
      const bytes = new Uint8Array(await zipBlob(entries).arrayBuffer());
      let text = ""; for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    }""", names)
    archive = tmp_path / "pictures.zip"
    archive.write_bytes(base64.b64decode(data))
    subprocess.run(["unzip", "-q", str(archive), "-d", str(tmp_path / "out")], check=True)
    found = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.jpg"))
    assert found == sorted(names)
    assert (tmp_path / "out" / "手" / "b.jpg").read_bytes() == bytes([2, 1, 2, 3])


def test_a_class_named_proto_is_a_class_like_any_other(page):
    """Item 15: a class named __proto__ keeps its per-class metrics, and "collect
    more" can name it (it vanished when scores were assigned into a plain object)."""
    found = page.evaluate("""async () => {
      const metrics = await import("./web/recipe/metrics.js");
      const classes = ["__proto__", "cat"];
      const summary = metrics.summarize([0, 0, 1, 1], [[0.2, 0.8], [0.9, 0.1], [0.1, 0.9], [0.2, 0.8]], classes);
      return { names: Object.keys(JSON.parse(JSON.stringify(summary.per_class))),
               support: summary.per_class["__proto__"]?.support,
               next: metrics.captureNext({ per_class: summary.per_class }, classes) };
    }""")
    assert found["names"] == ["__proto__", "cat"] and found["support"] == 2
    assert "“__proto__”" in found["next"]


def test_a_damaged_confusion_matrix_still_opens(page, trained, tmp_path):
    """Hardening 3, item 20: a bundle whose metrics are damaged (a confusion matrix that
    is text, an accuracy of 7) opens and plays; the metrics that cannot be shown are
    left out (the page said "confusion.forEach is not a function")."""
    from hostile_bundles import join_file, split_file

    header, body = split_file(trained.bundle.read_bytes())
    document = json.loads(header["__metadata__"]["pocketvision"])
    document["metrics"].update(confusion="not a matrix", accuracy=7)
    header["__metadata__"]["pocketvision"] = json.dumps(document)
    damaged = join_file(header, body)
    summary = page.evaluate("""async ([data]) => {
      const file = await import("./web/recipe/bundle-file.js");
      const shown = await import("./web/app/model-summary.js");
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const model = await file.playableModel(file.readBundle(bytes.buffer),
                                             await (await fetch("backbone.json")).json());
      return { labels: model.labels, summary: shown.summaryOf(model.meta, "opened here") };
    }""", [base64.b64encode(damaged).decode()])
    assert summary["labels"] == trained.classes
    assert summary["summary"]["confusion"] is None and summary["summary"]["accuracy"] is None


def test_the_one_burst_warning_comes_from_the_bundle_wherever_it_was_trained(page):
    """A class with no validation picture (one capture burst) is named under the model,
    read from the bundle's header: the page says it of a model trained on the studio's
    computer or by `pocketvision train` as of one trained here; not of an explicit split."""
    found = page.evaluate("""async () => {
      const { summaryOf } = await import("./web/app/model-summary.js");
      const meta = (explicit) => ({ labels: ["cat", "dog"], metrics: {}, backbone: { name: "b" },
        dataset: { explicit_split: explicit }, validation_images: [{ path: "p", label: "dog", sha256: "s" }] });
      return { split: summaryOf(meta(false), "test").warnings, explicit: summaryOf(meta(true), "test").warnings };
    }""")
    assert len(found["split"]) == 1 and "“cat” is one capture burst" in found["split"][0]
    assert found["explicit"] == []

"""Fuzzing, so the next defect is found by the tests and not by a user (issue 10).

- Hypothesis: every value of every numeric option either builds a config within
  its documented range or is refused with a SettingError (never another
  exception); the same through the real CLI parser; any JSON document or mutation
  of a real bundle header either loads or is a BundleError.
- Schemathesis: the studio's OpenAPI schema drives generated requests at every
  operation: no 5xx, no traceback, nothing written outside the project folder.
- Hardening 2: any contract document or bytes a file may carry, any bytes for the
  Core ML protobuf walk, any name through the CSV cell escaping and rich's markup,
  any cut of a CSV with quoted newlines (zip bombs, FIFOs, devices, concurrent
  writers and names that are not UTF-8: test_hardening_2.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pocketvision.config import ExportConfig, SmoothingConfig, TrainConfig
from pocketvision.errors import BundleError, SettingError
from pocketvision.model.bundle_meta import BundleMeta

numbers = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True))
CONFIGS = [TrainConfig, SmoothingConfig, ExportConfig]


def numeric_fields(config):
    return [f for f in dataclasses.fields(config)
            if isinstance(f.default, (int, float)) and not isinstance(f.default, bool)]


def in_range(value, limits) -> bool:
    low, high, above = limits["low"], limits["high"], limits["above"]
    return (math.isfinite(value) and (low is None or value >= low)
            and (high is None or value <= high) and (above is None or value > above))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_numeric_setting_is_in_range_or_refused(config, data):
    spec = data.draw(st.sampled_from(numeric_fields(config)))
    value = data.draw(numbers)
    try:
        built = config(**{spec.name: value})
    except SettingError as error:
        assert f"--{spec.name.replace('_', '-')}" in str(error)
        assert not in_range(value, spec.metadata) or config is SmoothingConfig
        return
    assert in_range(getattr(built, spec.name), spec.metadata)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.one_of(st.none(), st.integers(-5, 10**6)),
       threshold=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_the_cli_refuses_bad_values_before_any_work(tmp_path, top, threshold):
    """Through the real parser: a bad value is named in one line; a good one gets
    as far as the (missing) bundle."""
    from typer.testing import CliRunner

    from pocketvision.cli import app

    args = ["predict", str(tmp_path / "missing.pvb"), str(tmp_path / "x.jpg")]
    args += ["--top", str(top)] if top is not None else []
    args += ["--threshold", repr(threshold)] if threshold is not None else []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    bad_top = top is not None and not 1 <= top <= 100_000
    bad_threshold = threshold is not None and not (0 <= threshold <= 1)
    if bad_top or bad_threshold:
        assert "out of range" in result.output
    else:
        assert "does not exist" in result.output


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12)


def valid_header() -> dict:
    return {"format": "pocketvision-bundle", "format_version": 1, "labels": ["a", "b"],
            "preprocessing": {"resize": 224, "crop": 224, "mean": [0.5] * 3, "std": [0.25] * 3,
                              "interpolation": "bilinear", "channel_order": "RGB"},
            "backbone": {"name": "efficientnet_lite0"}}


@settings(max_examples=500, deadline=None)
@given(document=json_values)
def test_any_json_header_loads_or_is_a_bundle_error(document):
    try:
        BundleMeta.from_json(document, "fuzz.pvb")
    except BundleError:
        pass


@settings(max_examples=1000, deadline=None)
@given(path=st.lists(st.sampled_from(["labels", "preprocessing", "backbone", "resize", "crop", "mean",
                                      "std", "name", "format_version", 0, 1]), min_size=1, max_size=3),
       value=json_values)
def test_a_mutated_real_header_loads_valid_or_is_a_bundle_error(path, value):
    document = valid_header()
    target = document
    for key in path[:-1]:
        target = target.get(key) if isinstance(target, dict) else None
        if not isinstance(target, (dict, list)):
            return
    try:
        target[path[-1]] = value
    except (TypeError, IndexError):
        return
    try:
        meta = BundleMeta.from_json(json.loads(json.dumps(document)), "fuzz.pvb")
    except BundleError:
        return
    # what loads is a model description that works downstream
    assert meta.labels and all(isinstance(label, str) for label in meta.labels)
    assert 1 <= meta.preprocessing.crop <= meta.preprocessing.resize
    assert min(meta.preprocessing.std) > 0


# ---- Schemathesis over the studio ---------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def studio_under_fuzz(tmp_path_factory, fashion3):
    """The studio on a project with two small classes, and the folder around it."""
    from pocketvision.live.studio import studio_app

    around = tmp_path_factory.mktemp("around")
    project = around / "project"
    for label in ("sneaker", "trouser"):
        folder = project / "samples" / label
        folder.mkdir(parents=True)
        for source in sorted((fashion3 / "train" / label).iterdir())[:3]:
            (folder / f"upload-{source.stem}.jpg").write_bytes(source.read_bytes())
    return studio_app(project), around


RUNS = {"cases": 0}


def test_the_studio_api_under_schemathesis(studio_under_fuzz):
    app, around = studio_under_fuzz
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    failures, statuses = [], Counter()

    for operation in schema.get_all_operations():
        operation = operation.ok()

        @settings(max_examples=40, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            RUNS["cases"] += 1
            response = case.call(headers={"host": "127.0.0.1:8765"})
            text = response.content.decode("utf-8", "replace")  # some answers are pictures, graphs
            statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 500 or "Traceback" in text:
                failures.append((case.method, case.formatted_path, response.status_code, text[:200]))

        fuzz()
    print(f"schemathesis: {RUNS['cases']} cases over {len(list(schema.get_all_operations()))} "
          f"operations, answers by class: {dict(statuses)}")
    assert failures == [], failures[:5]
    assert statuses[200] >= 10 and statuses[400] >= 50  # it reached the handlers, both ways
    assert sorted(p.name for p in around.iterdir()) == ["project"]  # nothing written outside


# ---- hardening 2: hostile files, odd names, cut CSVs -----------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
              st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(document=json_values, raw=st.binary(max_size=80))
def test_any_contract_read_back_is_checked_or_refused(document, raw):
    """The one contract check every format's reader uses: a JSON document of any
    shape, or any bytes, either passes or is one ExportError."""
    from pocketvision.errors import ExportError
    from pocketvision.exports.contract import checked_contract

    for text in (json.dumps(document), raw):
        try:
            found = checked_contract(text, "fuzzed.onnx")
        except ExportError as error:
            assert "fuzzed.onnx" in str(error)
            continue
        assert found["labels"] and found["preprocessing"]["crop"] <= found["preprocessing"]["resize"]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=0, max_size=300))
def test_the_coreml_protobuf_walk_never_hangs_or_crashes(data):
    from pocketvision.exports.protobuf import fields

    try:
        fields(data, 1)
    except (ValueError, IndexError):
        pass


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=400, deadline=None)
@given(name=names)
def test_every_cell_survives_the_csv_round_trip(name):
    from pocketvision.inference.sinks import neutralised, restored

    cell = neutralised(name)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restored(cell) == name


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(names, min_size=3, max_size=3), min_size=1, max_size=8),
       cut=st.floats(0, 1))
def test_a_cut_csv_is_cut_back_to_whole_records(rows, cut):
    """Quoted newlines and doubled quotes included: what is kept parses to a prefix
    of the records written."""
    import csv
    import io

    from pocketvision.inference.sinks import complete_length

    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    data = text.getvalue().encode()
    kept = data[: complete_length(data[: int(cut * len(data))])]
    parsed = list(csv.reader(io.StringIO(kept.decode(), newline="")))
    assert parsed == [list(r) for r in rows[: len(parsed)]]


@settings(max_examples=300, deadline=None)
@given(name=st.text(st.sampled_from("[]/=@#x (:)"), min_size=1, max_size=20))
@example(name=":x:")  # an emoji code, which CI's run drew once
@example(name="[bold]")
def test_user_text_with_markup_prints_as_text(name):
    """Names made of markup's own characters ([@x=(], [/], [bold], :x:) print as written."""
    from pocketvision.cli_text import _as_text, console

    with console.capture() as captured:
        console.print(f"class {_as_text(name)} done", highlight=False, soft_wrap=True)
    assert captured.get() == f"class {name} done\n"

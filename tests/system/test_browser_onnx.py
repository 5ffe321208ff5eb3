"""The ONNX export runs in onnxruntime-web in headless Chromium (the documented
snippet docs/snippets/browser.html, unchanged), served from
127.0.0.1 with the onnxruntime-web files the package ships, and gives the trained
model's answer on the golden image."""

from __future__ import annotations

import json

import pytest
from browser import browser_available, chromium_page, static_server, web_assets
from paths import ROOT

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")

SNIPPET = ROOT / "docs" / "snippets" / "browser.html"


def test_onnx_export_gives_the_same_label_in_the_browser(trained, tmp_path, artifacts):
    from pocketvision.exports.job import export

    site = tmp_path / "site"
    report = export(trained.bundle, site, ["onnx"])
    web_assets(site)
    (site / "index.html").write_text(SNIPPET.read_text())  # the documented snippet, as is
    golden = json.loads((site / "golden.json").read_text())["probabilities"]
    expected = max(golden, key=golden.get)
    with static_server(site) as url, chromium_page() as page:
        page.goto(f"{url}/index.html")
        page.wait_for_function("window.result !== undefined", timeout=60_000)
        result = page.evaluate("window.result")
        assert page.outside_requests == []
        page.screenshot(path=str(artifacts / "browser-snippet.png"))
    assert "error" not in result, result
    assert result["labels"] == trained.classes
    assert result["label"] == expected
    browser_probabilities = dict(zip(result["labels"], result["probabilities"]))
    # canvas resampling differs slightly from Pillow's; the answer must not
    assert abs(browser_probabilities[expected] - golden[expected]) < 0.05
    assert report.exports[0].top1_agreement >= 0.99

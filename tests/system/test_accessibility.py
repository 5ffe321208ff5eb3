"""Every view of the phone app passes axe-core's checks (npm, tests/npm-clients; used
by the tests only) with no serious or critical violation, in every engine: names for
every control, contrast of at least 4.5:1, nothing said by colour alone, landmarks
and roles used as meant. The app is checked as a person leaves it: classes with
pictures, a trained model, the game running, and the Use view watching, with a log
and a review list."""

from __future__ import annotations

import json
from pathlib import Path

import phone_drive as drive
import pytest
from conftest import sample_dir
from engines import ENGINES, engine_missing, open_engine
from phone import phone_site, static_site

AXE = Path(__file__).parents[1] / "npm-clients" / "node_modules" / "axe-core" / "axe.min.js"

SERIOUS = """axe.run(document, { resultTypes: ["violations"] }).then((result) => result.violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => ({ id: v.id, help: v.help, where: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) })))"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@pytest.mark.parametrize("name", ENGINES)
def test_every_view_has_no_serious_accessibility_violation(name, site, tmp_path, artifacts):
    if engine_missing(name):  # tests/install.sh installs all three: without one, its install failed
        pytest.fail(engine_missing(name))
    assert AXE.exists(), "axe-core is missing: run bash tests/install.sh"
    with static_site(site) as (url, _), open_engine(name, tmp_path / "profile") as engine:
        engine.goto(url)
        drive.settled(engine)
        for label in ("sneaker", "trouser"):
            drive.add_class(engine, label)
            drive.add_photos(engine, label, sorted((sample_dir() / label).iterdir())[:8])
        assert drive.train(engine)["training"]["status"] == "done"
        found = {}
        for view, tab in drive.VIEWS.items():
            engine.click(tab)
            engine.until(f"s.view === {json.dumps(view)}", 20)
            if view == "use":
                engine.click("#use-start")
                engine.until("s.use.review + s.use.log > 0", 60)  # something listed to check
            engine.evaluate(f"(0, eval)({json.dumps(AXE.read_text())}) && true")
            found[view] = engine.evaluate(SERIOUS)
            engine.screenshot(artifacts / f"a11y-{name}-{view}.png")
        assert found == {view: [] for view in drive.VIEWS}, json.dumps(found, indent=1)

"""The values the page's recipe shares with Python are written once: web/recipe/shared.js
is exactly what pocketvision.exports.shared_values writes from the Python constants,
and no JavaScript module types one of them again."""

from __future__ import annotations

import re

import pytest
from js_imports import WEB, modules

from pocketvision.exports.shared_values import SHARED_JS, shared_javascript, shared_values


def test_shared_js_is_what_the_python_constants_write():
    assert SHARED_JS.read_text() == shared_javascript(), (
        "web/recipe/shared.js is out of step with the Python constants: run "
        "`python -m pocketvision.exports.shared_values` and commit the file")


def test_a_python_constant_changed_alone_is_caught(monkeypatch):
    from pocketvision.model import novelty

    monkeypatch.setattr(novelty, "NEIGHBOURS", novelty.NEIGHBOURS + 1)
    assert SHARED_JS.read_text() != shared_javascript()


# A name the twins used to define themselves, and the literal it had; a module that
# defines it again (rather than importing it from shared.js) fails here.
TYPED_BEFORE = re.compile(
    r"\b(?:const|let|var)\s+(NEIGHBOURS|FOLDS|ACCEPTED|MAX_BANK|NOVELTY_THRESHOLD|FORMAT|"
    r"FORMAT_VERSION|HEADER_KEY|BODY_PREFIX|BANK|HEAD_AND_NOVELTY|MAX_HEADER_DEPTH|MAX_SIDE|"
    r"HASH_SIDE|NEAR_DUPLICATE_BITS|SESSION_NAME|MAX_LENGTH|MAX_BYTES|MAX_NAME_LENGTH|"
    r"MAX_NAME_BYTES|CALIBRATION_BINS|DEFAULTS|UNSURE_BELOW)\s*=")


@pytest.mark.parametrize("module", [m for m in modules() if m != "recipe/shared.js"])
def test_no_module_types_a_shared_value_again(module):
    assert TYPED_BEFORE.findall((WEB / module).read_text()) == []


def test_every_shared_value_is_used_on_the_page():
    text = "\n".join((WEB / m).read_text() for m in modules() if m != "recipe/shared.js")
    assert [name for name in shared_values() if not re.search(rf"\b{name}\b", text)] == []

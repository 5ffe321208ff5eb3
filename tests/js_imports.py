"""The JavaScript modules of the package's web/ folder and what each one loads:
static imports, dynamic ``import()``, workers started with ``new URL(...,
import.meta.url)``, resolved to paths relative to web/ (``app/app.js``)."""

from __future__ import annotations

import posixpath
import re
from importlib.resources import files
from pathlib import Path

WEB = Path(str(files("pocketvision") / "web"))
# `from "./x.js"`, `import("./x.js")`, `import "./x.js"`, `new URL("./x.js", ...)`
_LOADED = re.compile(r"""(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)["'](\.{1,2}/[^"']+)["']""")
_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def loads(name: str, text: str | None = None) -> set[str]:
    """What the module ``name`` (relative to web/) loads, relative to web/."""
    text = _COMMENT.sub("", (WEB / name).read_text() if text is None else text)
    folder = posixpath.dirname(name)
    return {posixpath.normpath(posixpath.join(folder, target)) for target in _LOADED.findall(text)}


def modules() -> list[str]:
    return sorted(p.relative_to(WEB).as_posix() for p in WEB.rglob("*.js")
                  if "vendor" not in p.relative_to(WEB).parts)


def reachable(start: str) -> set[str]:
    """``start`` and everything it loads, directly or not (vendored files included,
    not followed: they are onnxruntime-web's own business)."""
    found, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        if not name.startswith("vendor/"):
            todo += [target for target in loads(name) if target.endswith((".js", ".mjs"))]
    return found

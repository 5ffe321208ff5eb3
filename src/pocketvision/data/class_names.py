"""The one rule for class names, shared by ``train`` (folder names), ``collect``
and the studio, so a class made in one is usable in the others.

Names are compared and stored in Unicode NFC: macOS file systems hand out NFD
(``cafe`` + a combining accent), which must be the same class as the NFC
``café`` typed in a page.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 64
MAX_BYTES = 255  # a file name's limit on most file systems (64 emoji are 256 bytes)


def normalized(name: str) -> str:
    """The canonical form of a class name: NFC, surrounding spaces removed."""
    return unicodedata.normalize("NFC", name).strip()


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a class name, or None when it can.

    Allowed: 1 to 64 characters (at most 255 bytes in UTF-8) of any script, spaces, dots, brackets... What is
    refused could leave the folder, hide it, or break a file system or a terminal:
    slashes, a leading dot, control characters, bytes that are not UTF-8.
    """
    name = normalized(name)
    reason = _reason(name)
    if reason is None:
        return None
    shown = name.encode("utf-8", "backslashreplace").decode()[:MAX_LENGTH + 4]
    return f"class name {shown!r} is not allowed: {reason}"


def label_problem(label: str) -> str | None:
    """Why a model's label (a class name read back from a file) breaks the rule, or
    None: a newline or an escape sequence in one would reach terminals and pages."""
    problem = class_name_problem(label)
    return problem and problem.replace("class name", "label", 1)


def _reason(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    if not _is_utf8(name):
        return "it is not valid UTF-8"
    if len(name.encode("utf-8")) > MAX_BYTES:
        return f"it is longer than {MAX_BYTES} bytes in UTF-8 (a folder name's limit)"
    if any(c in "/\\" for c in name):  # first: '../x' is refused for what makes it escape
        return "it has a slash (a class is one folder)"
    if name.startswith("."):
        return "it starts with a dot (hidden folders are not classes)"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "it has a control character"
    return None


def _is_utf8(text: str) -> bool:
    """False for names read from disk whose bytes were not UTF-8 (surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

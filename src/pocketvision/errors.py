"""Errors a user can act on.

Every error a person can fix by changing what they typed or what is on disk derives
from :class:`PocketVisionError`; the CLI prints its message as one line and exits
with code 2. Anything else is a bug and exits 1 with a traceback.

    PocketVisionError
    ├── DatasetError          a data folder is missing, empty, or has too few images
    ├── ImageError            one file is not a readable image
    ├── BackboneError         unknown backbone name
    │   └── WeightsUnavailableError   pretrained weights cannot be found offline
    ├── BundleError           a file is not a pocketvision bundle, or is too new
    ├── ExportError           an export cannot be made (unknown format, failed conversion)
    │   └── RuntimeUnavailable    the format's runtime does not exist on this platform
    ├── LiveError             a camera, video, key or server problem in the live tools
    │   └── NotThereError         the class or picture asked for is not there (HTTP 404)
    ├── SettingError          an option has a value it cannot have (out of range, NaN)
    └── MissingExtraError     an optional dependency is not installed
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator


class PocketVisionError(Exception):
    """A mistake the user can fix; the message says what was found and what to do."""


class DatasetError(PocketVisionError):
    """The data folder cannot be used as it is."""


class ImageError(PocketVisionError):
    """One file is not a readable image."""


class BackboneError(PocketVisionError):
    """The backbone asked for does not exist or cannot be built."""


class WeightsUnavailableError(BackboneError):
    """Pretrained weights for a backbone are not available on this machine."""


class BundleError(PocketVisionError):
    """A file is not a valid pocketvision bundle."""


class ExportError(PocketVisionError):
    """An export cannot be made as asked."""


class RuntimeUnavailable(ExportError):
    """The format's runtime does not exist on this platform (Core ML on Linux).

    Attributes:
        runtime: what would run it, e.g. "coremltools 9.0".
        contract: the self-description read back from the file all the same.
    """

    def __init__(self, reason: str, runtime: str, contract: dict):
        super().__init__(reason)
        self.runtime, self.contract = runtime, contract


class LiveError(PocketVisionError):
    """A camera, video file, key name or local server problem in the live tools."""


class NotThereError(LiveError):
    """The class, picture or trash entry a request names is not there."""


class SettingError(PocketVisionError):
    """An option or config field has a value it cannot have; the message names the
    flag and the accepted range."""


class MissingExtraError(PocketVisionError):
    """An optional dependency is missing; the message names the extra to install."""

    @classmethod
    def needing(cls, need: str, extra: str) -> "MissingExtraError":
        """``<need>; install it with "pip install 'pocketvision[<extra>]'"``."""
        return cls(f'{need}; install it with "{install_command(extra)}"')


@contextmanager
def converter_errors(what: str, limit: int = 200) -> Iterator[None]:
    """Turn whatever a converter or runtime library raises into one ExportError line:
    ``<what> (<ExceptionType>: <first characters of its message>)``.

    Their messages can be pages long and carry terminal colour codes (torch.export
    does); the user needs the gist on one line. Our own errors pass through.
    """
    try:
        yield
    except PocketVisionError:
        raise
    except Exception as error:
        detail = " ".join(_ANSI.sub("", str(error)).split())[:limit]
        raise ExportError(f"{what} ({type(error).__name__}: {detail})") from None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def first_line(error: BaseException, limit: int = 200) -> str:
    """An exception's message as one short line: its first line, or its type's name
    when it has none (a library's message can be pages long)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:limit]


def printable(path) -> str:
    """A path (or any text) that can always be printed and put in JSON or CSV: the
    bytes of a file name that are not UTF-8 are shown as the bytes they are
    (``caf\\xff.jpg``), the one rule for every message, report and log line."""
    text = str(path)
    try:
        raw = text.encode("utf-8", "surrogateescape")  # a name's undecodable bytes, back
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def unknown_name(kind: str, name: str, known) -> str:
    """The one way a registry says it has no such name: ``unknown <kind> 'x'; choose
    one of: a, b, c``."""
    return f"unknown {kind} {name!r}; choose one of: {', '.join(known)}"


def install_command(extra: str) -> str:
    """The one way we spell how to install an optional part."""
    return f"pip install 'pocketvision[{extra}]'"

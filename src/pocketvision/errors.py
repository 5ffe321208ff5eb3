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
    └── MissingExtraError     an optional dependency is not installed
"""


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


class MissingExtraError(PocketVisionError):
    """An optional dependency is missing; the message names the extra to install."""

    @classmethod
    def needing(cls, need: str, extra: str) -> "MissingExtraError":
        """``<need>; install it with "pip install 'pocketvision[<extra>]'"``."""
        return cls(f'{need}; install it with "{install_command(extra)}"')


def install_command(extra: str) -> str:
    """The one way we spell how to install an optional part."""
    return f"pip install 'pocketvision[{extra}]'"

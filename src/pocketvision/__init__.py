"""pocketvision: your own image classifier, trained in seconds, on your phone."""

__version__ = "0.1.0"

"""wirewatch stream processing: the Faust app, the pure core, the CLI and the dev broker."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wirewatch")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"

"""The school's secret for a live feed (the XoD password, the Wonde token).

It never sits in ``config.toml``: ``read_secret`` takes it from
``source.secret_file`` (relative to the config file), which must be readable
by its owner only, else from the environment variable
``MISLINK_SOURCE_SECRET``. Nothing here, or anywhere, logs or shows it; a
problem names the file or the variable, never the value.
"""
from __future__ import annotations

import os
import stat

from engine.config import Config
from engine.export.files import ExportError

ENV_VAR = "MISLINK_SOURCE_SECRET"


def read_secret(config: Config) -> str:
    """The secret, or ``ExportError`` saying where it was looked for."""
    if config.source.secret_file:
        path = config.base_dir / config.source.secret_file
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ExportError(f"source.secret_file {path}: other users can read it; make it private first: "
                                    f"chmod 600 {path}")
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ExportError(f"source.secret_file {path}: cannot be read ({exc.strerror or exc})") from None
        if not secret:
            raise ExportError(f"source.secret_file {path}: is empty")
        return secret
    secret = os.environ.get(ENV_VAR, "").strip()
    if not secret:
        raise ExportError(f"no secret for the {config.source.kind} feed: set {ENV_VAR} or source.secret_file")
    return secret

"""The full-page app: ``start_gui()`` / ``stop_gui()`` and the jupyter-server extension.

``start_gui()`` serves the app from the process that owns the database (a script, blocking, or
a notebook kernel, in the background). The Jupyter extension (``lightly_studio.server.jupyter``,
enabled on install) serves the same page under ``/lightly-studio/`` and forwards its API calls to
that process, found through a runtime file — it never opens the database itself.

Importing this module is cheap: tornado is imported when a server starts.
"""

from __future__ import annotations

from lightly_studio.server._gui import GuiServer, current_server, start_gui, stop_gui


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    # Lets `jupyter server extension enable lightly_studio.server` work too.
    return [{"module": "lightly_studio.server.jupyter"}]


__all__ = ["GuiServer", "current_server", "start_gui", "stop_gui"]

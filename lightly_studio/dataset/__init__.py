"""Settings of the app server, kept where the reference docs expect them.

``from lightly_studio.dataset import env`` gives the host, port and URL of the GUI server.
"""

from __future__ import annotations

from lightly_studio.dataset import env

__all__ = ["env"]

"""The one HTML page of the full-page app (served by ``start_gui()`` and the Jupyter extension).

All URLs in it are relative, so the same page works at ``http://localhost:8001/`` and under
``/lightly-studio/`` in Jupyter. It holds no user data: everything the page shows comes from the
API and is put into the DOM by the views as text (never innerHTML), and the CSP below forbids
inline scripts, so a label like ``<img src=x onerror=…>`` can only ever be shown, not run.

One exception, for first paint: ``start_gui()`` streams the page in two parts and appends the
result of ``list_datasets`` as a JSON data block (``<script type="application/json">``, never
executed, ``<``/``>``/``&`` escaped), so the dataset list is queried while the browser loads
the bundle instead of after it (one round trip less before the first thumbnails).
"""

from __future__ import annotations

import html
import json
import os

# 'unsafe-eval': regl (the WebGL scatter plot) compiles its draw commands with new Function.
# No inline scripts; images from blob:/data: URLs (thumbnails arrive as binary buffers).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
    # regl-scatterplot builds its lasso index in a blob: worker from 1,000,000 points on.
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'"
)
# No frame-ancestors / X-Frame-Options: the docs embed the app with IFrame(env.APP_URL) from a
# notebook on another port (another origin).

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="lightly-studio-version" content="{version}">
<meta name="color-scheme" content="dark light">
<title>LightlyStudio</title>
<base href="{base}">
{css}
<style>
  html, body {{ margin: 0; height: 100%; font-family: system-ui, sans-serif; }}
  #lightly-studio-app {{ height: 100%; }}
  .ls-app-missing {{ padding: 2em; color: #555; }}
</style>
</head>
<body>
<div id="lightly-studio-app" data-base="{base}">
{missing}
</div>
<script type="module" src="static/app.js"></script>
"""
_TAIL = "</body>\n</html>\n"
BOOT_ID = "lightly-studio-boot"


def render(base: str, static_dir: str, boot: dict | None = None) -> str:
    """The whole page; ``boot`` (e.g. ``{"list_datasets": {...}}``) as in ``render_tail``."""
    return render_head(base, static_dir) + render_tail(boot)


def render_tail(boot: dict | None = None) -> str:
    """The end of the page, with ``boot`` as a JSON data block when given. The module script
    above runs only once the whole document is parsed, so it always finds the block."""
    if boot is None:
        return _TAIL
    text = json.dumps(boot, separators=(",", ":"), allow_nan=False)
    # Inside <script> a "</script>" or "<!--" in a dataset name would end or confuse the
    # element: escape the characters as JSON unicode escapes (JSON.parse undoes them).
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{BOOT_ID}">{text}</script>\n{_TAIL}'


def render_head(base: str, static_dir: str) -> str:
    """The page up to and including the bundle's script tag (flushed first when streaming)."""
    css = ""
    if os.path.exists(os.path.join(static_dir, "app.css")):
        css = '<link rel="stylesheet" href="static/app.css">'
    missing = ""
    if not os.path.exists(os.path.join(static_dir, "app.js")):
        missing = (
            '<p class="ls-app-missing">The app bundle is missing: run '
            "<code>npm ci &amp;&amp; npm run build</code> in the repository.</p>"
        )
    return _TEMPLATE.format(
        base=html.escape(base, quote=True),
        css=css,
        missing=missing,
        version=html.escape(_version(), quote=True),
    )


def _version() -> str:
    from lightly_studio import __version__

    return __version__

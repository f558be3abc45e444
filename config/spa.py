"""Serve the built single-page app (`frontend/dist`, made by `npm run build`).

`index.html` answers every browser path outside `/api/`, `/admin/`, `/static/`, `/media/`,
`/sandbox/`, `/app-assets/` and the ops endpoints, so that client-side routes such as
`/pay/return` and `/set-password` load the app. Hashed assets live under `/app-assets/`:
served here while `DEBUG` is true, by the web server (nginx) otherwise.
"""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.http import require_safe
from django.views.static import serve

DIST = Path(settings.BASE_DIR) / "frontend" / "dist"
ASSET_PREFIX = "app-assets/"
_EXCLUDED = ("api/", "admin/", "static/", "media/", "sandbox/", ASSET_PREFIX, "healthz", "readyz")

NOT_BUILT = (
    "<!doctype html><meta charset='utf-8'><title>stsys</title>"
    "<p>前端尚未构建：请在 frontend/ 中运行 <code>npm ci &amp;&amp; npm run build</code>"
    "（或 <code>make run</code>）。API 文档见 <a href='/api/docs/'>/api/docs/</a>。</p>"
)


@require_safe
def index(request: HttpRequest, path: str = "") -> HttpResponse:
    """Return `frontend/dist/index.html` (no-cache: it names the current hashed assets).

    Responds 503 with a short HTML hint when the app has not been built.
    """
    try:
        html = (DIST / "index.html").read_bytes()
    except FileNotFoundError:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/html; charset=utf-8")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def asset(request: HttpRequest, path: str) -> HttpResponse:
    """Serve one built asset from `frontend/dist` (DEBUG only); hashed names are immutable."""
    response = serve(request, path, document_root=str(DIST))
    if response.status_code == 200 and path != "index.html":
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


_excluded = "|".join(_EXCLUDED)
urlpatterns = [
    re_path(rf"^(?!{_excluded})(?P<path>.*)$", index, name="spa"),
]
if settings.DEBUG:
    urlpatterns.insert(0, re_path(rf"^{ASSET_PREFIX}(?P<path>.+)$", asset, name="spa-asset"))

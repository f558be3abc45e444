"""Root URLs: /api/<app>/ for each app, schema and docs, ops endpoints, admin."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/users/", include("apps.users.urls")),
    path("api/school/", include("apps.school.urls")),
    path("api/work/", include("apps.work.urls")),
    path("api/topics/", include("apps.work.urls_alias")),  # work: search alias (API.md §2.4)
    path("api/community/", include("apps.community.urls")),
    path("api/shopping/", include("apps.shopping.urls")),
]
urlpatterns += [path("sandbox/alipay/", include("apps.shopping.simulator.urls"))] if settings.ALIPAY_SIMULATOR else []  # shopping: offline Alipay simulator (DEBUG only)  # fmt: skip
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
urlpatterns.append(path("", include("config.spa")))  # frontend (issue 8): SPA catch-all, keep last

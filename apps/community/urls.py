"""URL routes of this app (mounted under /api/<app>/ by config.urls)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

"""URL routes of this app (mounted under /api/school/ by config.urls)."""

from rest_framework.routers import DefaultRouter

from apps.school.views import ClassesViewSet

router = DefaultRouter()
router.register("classes", ClassesViewSet, basename="classes")

urlpatterns = router.urls

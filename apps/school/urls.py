"""URL routes of this app (mounted under /api/school/ by config.urls)."""

from apps.school.views import ClassesViewSet
from utils.drf import ApiRouter

router = ApiRouter()
router.register("classes", ClassesViewSet, basename="classes")

urlpatterns = router.urls

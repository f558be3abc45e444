"""URL routes of the community app, mounted under /api/community/ (API.md §2.5)."""

from apps.community import views
from utils.drf import ApiRouter

router = ApiRouter()
router.register("articles", views.ArticleViewSet, basename="articles")
router.register("comments", views.CommentViewSet, basename="comments")

urlpatterns = router.urls

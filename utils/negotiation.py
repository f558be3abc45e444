"""Content negotiation for the API (REST_FRAMEWORK["DEFAULT_CONTENT_NEGOTIATION_CLASS"]).

Its own module: `rest_framework.views` imports the setting's class while it is being defined, so the
class must not live in a module that imports `rest_framework.views` (as `utils.drf` does).
"""

from rest_framework import negotiation


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation with a shortcut for the common request that states no preference.

    With no `?format=` / format suffix and an `Accept` header that is absent, `*/*` or exactly the
    first renderer's media type, DRF's `DefaultContentNegotiation` answers `(first renderer, its
    media type)` after parsing the header and ranking media types; this returns the same pair
    without that work. Every other request (another type, a list, parameters, `?format=`) goes
    through DRF unchanged, so unsupported types still get 406.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0]
        if not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
            accept = request.META.get("HTTP_ACCEPT", "*/*").strip()
            if accept in ("*/*", first.media_type):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

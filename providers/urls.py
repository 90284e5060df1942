"""URLs generated from the registry: with or without the trailing slash, never a redirect."""

from django.urls import URLPattern, re_path

from providers.registry import adapters
from providers.views import endpoint


def _patterns() -> list[URLPattern]:
    patterns = []
    for slug, adapter in adapters().items():
        view = endpoint(adapter)
        if adapter.functions is None:
            patterns.append(re_path(rf"^{slug}/?$", view, name=f"{slug}-endpoint"))
        else:
            patterns.append(
                re_path(rf"^{slug}/(?P<function>[^/]{{0,64}})/?$", view, name=f"{slug}-endpoint")
            )
    return patterns


urlpatterns = _patterns()

"""URLs generated from the registry: with or without the trailing slash, never a redirect.

A path under a provider's prefix that names none of its endpoints is refused in that provider's
own format and journaled; a path under /providers/ that names no provider gets a JSON 404.
Neither is ever Django's HTML error page.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt

from providers.registry import adapters
from providers.views import endpoint


@csrf_exempt
def no_such_provider(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "no provider endpoint at this path"}, status=404)


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
        patterns.append(
            re_path(rf"^{slug}/.*$", endpoint(adapter, unknown_path=True), name=f"{slug}-unknown")
        )
    patterns.append(re_path(r"^.*$", no_such_provider, name="no-such-provider"))
    return patterns


urlpatterns = _patterns()

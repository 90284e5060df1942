"""URLs generated from the registry: with or without the trailing slash, never a redirect.

A path under a provider's prefix that names none of its endpoints is refused in that provider's
own format and journaled; a path under /providers/ that names no provider gets a JSON 404.
Neither is ever Django's HTML error page.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt

from providers.registry import adapters
from providers.views import endpoint


@csrf_exempt
def no_such_provider(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "no provider endpoint at this path"}, status=404)


#: Each provider's view of the paths under its prefix that name no endpoint of its.
_UNKNOWN_PATH_VIEWS: dict[str, Callable[..., HttpResponse]] = {}


@csrf_exempt
def odd_path(request: HttpRequest, rest: str = "") -> HttpResponse:
    """A path with doubled slashes ("//providers/jdb/", "/providers//naga/x"): refused by the
    provider it names, in that provider's format and journaled; else the JSON 404."""
    slug = rest.lstrip("/").split("/", 1)[0]
    view = _UNKNOWN_PATH_VIEWS.get(slug)
    return view(request) if view is not None else no_such_provider(request)


def _patterns() -> list[URLPattern]:
    patterns = []
    for slug, adapter in adapters().items():
        _UNKNOWN_PATH_VIEWS[slug] = endpoint(adapter, unknown_path=True)
        view = endpoint(adapter)
        if adapter.functions is None:
            patterns.append(re_path(rf"^{slug}/?$", view, name=f"{slug}-endpoint"))
        else:
            patterns.append(
                re_path(rf"^{slug}/(?P<function>[^/]{{0,64}})/?$", view, name=f"{slug}-endpoint")
            )
        patterns.append(re_path(rf"^{slug}/.*$", _UNKNOWN_PATH_VIEWS[slug], name=f"{slug}-unknown"))
    patterns.append(re_path(r"^[/]+(?P<rest>.*)$", odd_path, name="odd-path"))  # see backoffice
    patterns.append(re_path(r"^.*$", no_such_provider, name="no-such-provider"))
    return patterns


urlpatterns = _patterns()

"""The test URLconf: the real site plus the toy provider's endpoint."""

from django.urls import path

from backoffice.urls import urlpatterns as site
from providers.views import endpoint
from tests.providers.toy.provider import ToyAdapter

urlpatterns = [path("toy/", endpoint(ToyAdapter())), *site]

"""``Authorization: Bearer <api key>``: the key a company pasted into MEG names the company."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from ..models import Company
from ..selectors import company_for_api_key


class ApiKeyAuthentication(BaseAuthentication):
    """Sets ``request.auth`` to the key's company; there is no user behind an API key."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or len(secret) > 200:
            raise exceptions.AuthenticationFailed()
        company = company_for_api_key(secret)
        if company is None:
            raise exceptions.AuthenticationFailed()
        return None, company

    def authenticate_header(self, request):
        return 'Bearer realm="libeo"'


class HasApiKey(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Company)

"""Request → tenant scoping.

Every tenant-owned model uses django-scopes' ``ScopedManager(firm="firm")``: a query made outside
a scope raises ``ScopeError`` instead of silently reading every firm's rows. The middleware below
opens, for each request, a scope limited to the firms the user belongs to (as a firm user or as a
company user); the selectors then narrow further to one firm or one company and answer 404 for
anything else. The Django admin (staff only) works unscoped, for support.
"""

from contextlib import ExitStack

from django.conf import settings
from django_scopes import scope, scopes_disabled


def firm_ids_for(user):
    """The firms whose rows this user may ever see: theirs, and those of their companies."""
    from companies.models import CompanyMembership
    from firms.models import FirmMembership

    if not user.is_authenticated:
        return []
    with scopes_disabled():
        ids = set(FirmMembership.objects.filter(user=user).order_by()
                  .values_list("firm_id", flat=True))
        ids.update(CompanyMembership.objects.filter(user=user).order_by()
                   .values_list("firm_id", flat=True))
    return sorted(ids)


def user_scope(user):
    """A context manager scoping queries to ``user``'s firms."""
    return scope(firm=firm_ids_for(user))


class TenantScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/admin/"

    def __call__(self, request):
        with ExitStack() as stack:
            if request.path.startswith(self.admin_prefix) and getattr(
                    request.user, "is_staff", False):
                stack.enter_context(scopes_disabled())
            elif request.path.startswith(settings.STATIC_URL):
                pass
            else:
                stack.enter_context(user_scope(request.user))
            return self.get_response(request)


class ScopedAPIMixin:
    """For DRF views: authentication happens inside DRF (tokens), so scope after it."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._scope_stack = ExitStack()
        self._scope_stack.enter_context(user_scope(request.user))

    def finalize_response(self, request, response, *args, **kwargs):
        stack = getattr(self, "_scope_stack", None)
        if stack is not None:
            stack.close()
        return super().finalize_response(request, response, *args, **kwargs)

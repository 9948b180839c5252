"""Base views and mixins: tenancy is enforced here once, not in each view."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from companies.selectors import can_manage_company, companies_for, get_company_for
from firms.selectors import firm_membership_for


def add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError on the form, on the field it names when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class FirmMixin(LoginRequiredMixin):
    """Firm dashboard pages: the user must be a firm user; ``self.firm`` is their firm."""

    admin_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = firm_membership_for(request.user)
        if membership is None or (self.admin_only and not membership.is_admin):
            raise PermissionDenied
        self.membership = membership
        self.firm = membership.firm
        self.load_objects()
        return super().dispatch(request, *args, **kwargs)

    def load_objects(self):
        """Look up the objects named in the URL (404 when not the firm's) before any method."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(firm=self.firm, membership=self.membership)
        return context


class CompanyMixin(LoginRequiredMixin):
    """Company space pages: the company must be visible to the user, else 404."""

    manage = False  # settings pages: firm users of the company's firm only (403 otherwise)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.company = get_company_for(request.user, kwargs["company_id"])
        self.can_manage = can_manage_company(request.user, self.company)
        if self.manage and not self.can_manage:
            raise PermissionDenied
        self.load_objects()
        return super().dispatch(request, *args, **kwargs)

    def load_objects(self):
        """Look up further objects named in the URL (404 when not the company's)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(company=self.company, can_manage=self.can_manage)
        return context


class HomeView(LoginRequiredMixin, View):
    """After login: firm users go to their dashboard, company users to their company space."""

    def get(self, request):
        if firm_membership_for(request.user) is not None:
            return redirect("firms:dashboard")
        companies = list(companies_for(request.user)[:2])
        if len(companies) == 1:
            return redirect(reverse("companies:space", args=[companies[0].pk]))
        return render(request, "home.html", {"companies": companies_for(request.user)})

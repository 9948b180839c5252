from firms.selectors import firm_membership_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_firm_membership": firm_membership_for(user)}

from firms.selectors import firm_membership_for


class _AttentionTotal:
    """The navigation's « À traiter » badge: counted only when the page shows it, once."""

    def __init__(self, request, firm):
        self.request, self.firm = request, firm

    def __call__(self):
        from firms.attention import attention_total_of_request

        return attention_total_of_request(self.request, self.firm)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = firm_membership_for(user)
    context = {"nav_firm_membership": membership}
    if membership is not None:
        context["nav_attention_total"] = _AttentionTotal(request, membership.firm)
    return context

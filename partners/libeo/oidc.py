"""MEG as an OpenID Connect provider (django-oauth-toolkit), for "Me connecter avec MEG".

The ID token tells Libeo who the user is and which company they were paying for, so that
Libeo can create that company's account.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled
from oauth2_provider.oauth2_validators import OAuth2Validator

from .models import LibeoConnectIntent

INTENT_LIFETIME = datetime.timedelta(minutes=30)


class MegOIDCValidator(OAuth2Validator):
    # Every claim below goes in the ID token and userinfo, whatever the scopes' names.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        claims = {"email": user.email, "email_verified": True, "given_name": user.first_name,
                  "family_name": user.last_name, "name": user.display_name}
        with scopes_disabled():
            intent = (LibeoConnectIntent.objects.select_related("company")
                      .filter(user=user, created_at__gte=timezone.now() - INTENT_LIFETIME)
                      .first())
        if intent is not None:
            claims.update(meg_company_siren=intent.company.siren,
                          meg_company_name=intent.company.name)
        return claims

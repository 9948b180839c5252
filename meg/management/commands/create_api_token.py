from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scopes_disabled

from firms.selectors import firm_membership_for
from users.models import ApiToken
from users.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = ("Crée un nouveau jeton d'API pour l'utilisateur EMAIL (les précédents sont révoqués) "
            "et l'affiche, une seule fois : MEG n'en garde qu'une empreinte.")

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="Durée de validité en jours (par défaut : sans expiration).")
        parser.add_argument("--name", default="create_api_token",
                            help="Nom du jeton, affiché dans la liste des jetons.")

    @transaction.atomic
    def handle(self, *args, email, expires_in_days, name, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"Aucun utilisateur avec l'adresse {email}.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days doit être un nombre de jours positif.")
        with scopes_disabled():  # support's command: no request, no tenant scope
            membership = firm_membership_for(user)
        firm = membership.firm if membership else None
        for old in ApiToken.objects.filter(user=user):
            api_token_revoke(token=old, actor=None, firm=firm)
        _row, token = api_token_create(user=user, actor=None, name=name,
                                       expires_in_days=expires_in_days, firm=firm)
        self.stdout.write(token)

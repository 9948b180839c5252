from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = ("Crée un nouveau jeton d'API pour l'utilisateur EMAIL (l'ancien est révoqué) "
            "et l'affiche.")

    def add_arguments(self, parser):
        parser.add_argument("email")

    @transaction.atomic
    def handle(self, *args, email, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"Aucun utilisateur avec l'adresse {email}.")
        Token.objects.filter(user=user).delete()
        self.stdout.write(Token.objects.create(user=user).key)

"""``manage.py oidc_client create|list|delete``: the clients of MEG's OpenID provider."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model

from partners.libeo.oidc_clients import oidc_client_create, oidc_client_delete


class Command(BaseCommand):
    help = ("Gère les clients du fournisseur OpenID de MEG (« Me connecter avec MEG ») : "
            "create affiche l'identifiant et le secret une seule fois.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Crée un client confidentiel.")
        create.add_argument("--name", required=True)
        create.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris",
                            help="URL de retour autorisée (répétable).")
        create.add_argument("--client-id", help="Identifiant imposé (sinon tiré au hasard).")
        create.add_argument("--resource-server", action="store_true",
                            help="Serveur de ressources : sert seulement à l'introspection "
                                 "des jetons (à ajouter à MEG_OIDC_INTROSPECTION_CLIENTS).")
        actions.add_parser("list", help="Liste les clients (sans leurs secrets).")
        delete = actions.add_parser("delete", help="Supprime un client et ses jetons.")
        delete.add_argument("client_id")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name, redirect_uris, client_id, resource_server, **options):
        if resource_server and redirect_uris:
            raise CommandError("Un serveur de ressources n'a pas d'URL de retour.")
        if not resource_server and not redirect_uris:
            raise CommandError("Donnez au moins une --redirect-uri.")
        try:
            application, secret = oidc_client_create(
                name=name, redirect_uris=redirect_uris, client_id=client_id,
                resource_server=resource_server)
        except ValidationError as error:
            raise CommandError("; ".join(f"{field} : {' '.join(messages)}" for field, messages
                                         in error.message_dict.items())) from None
        self.stdout.write(f"client_id: {application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("Notez le secret maintenant : MEG n'en garde qu'une empreinte.")
        if resource_server and application.client_id not in settings.MEG_OIDC_INTROSPECTION_CLIENTS:
            self.stdout.write("Ajoutez cet identifiant à MEG_OIDC_INTROSPECTION_CLIENTS pour "
                              "qu'il puisse interroger /o/introspect/.")

    def _list(self, **options):
        for application in get_application_model().objects.order_by("name"):
            uris = application.redirect_uris.split() or ["(serveur de ressources)"]
            self.stdout.write(f"{application.client_id}\t{application.name}\t{' '.join(uris)}")

    def _delete(self, *, client_id, **options):
        if not oidc_client_delete(client_id=client_id):
            raise CommandError(f"Aucun client {client_id}.")
        self.stdout.write(f"Client {client_id} supprimé.")

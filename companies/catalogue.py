"""The module catalogue every MEG instance offers (loaded by a migration and by the seed).

Names and descriptions are stored in French and translated where they are shown
(``{% translate module.name %}``): ``gettext_noop`` puts them in the catalogue.
"""

from django.utils.translation import gettext_noop as _

CATALOGUE = [
    # code, name, tier, position, description
    ("achats", _("Achats"), "free", 10,
     _("Factures fournisseurs, règlements et paiement en un clic.")),
    ("facturation", _("Facturation"), "free", 20, _("Devis et factures clients.")),
    ("notes-de-frais", _("Notes de frais"), "free", 30,
     _("Saisie et validation des notes de frais.")),
    ("export-ecritures", _("Export des écritures"), "free", 40,
     _("Prévisualisation et export des écritures comptables (FEC, CSV).")),
    ("progbat", "ProGBat", "free", 50, _("Facturation spécialisée pour le secteur du bâtiment.")),
    ("caisse", _("Caisse"), "premium", 60, _("Journal de caisse et remises en banque.")),
    ("tresorerie", _("Trésorerie"), "premium", 70, _("Suivi et prévisions de trésorerie.")),
    ("tableau-de-bord", _("Tableau de bord"), "premium", 80,
     _("Indicateurs de gestion de l'entreprise.")),
]


def ensure_catalogue(module_model):
    """Create or update the catalogue's modules (idempotent); takes the model so that
    migrations can pass their historical one."""
    for code, name, tier, position, description in CATALOGUE:
        module_model.objects.update_or_create(code=code, defaults={
            "name": name, "tier": tier, "position": position, "description": description})

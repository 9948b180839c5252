"""The module catalogue every MEG instance offers (loaded by a migration and by the seed)."""

CATALOGUE = [
    # code, name, tier, position, description
    ("achats", "Achats", "free", 10,
     "Factures fournisseurs, règlements et paiement en un clic."),
    ("facturation", "Facturation", "free", 20, "Devis et factures clients."),
    ("notes-de-frais", "Notes de frais", "free", 30, "Saisie et validation des notes de frais."),
    ("export-ecritures", "Export des écritures", "free", 40,
     "Prévisualisation et export des écritures comptables (FEC, CSV)."),
    ("progbat", "ProGBat", "free", 50, "Facturation spécialisée pour le secteur du bâtiment."),
    ("caisse", "Caisse", "premium", 60, "Journal de caisse et remises en banque."),
    ("tresorerie", "Trésorerie", "premium", 70, "Suivi et prévisions de trésorerie."),
    ("tableau-de-bord", "Tableau de bord", "premium", 80,
     "Indicateurs de gestion de l'entreprise."),
]


def ensure_catalogue(module_model):
    """Create or update the catalogue's modules (idempotent); takes the model so that
    migrations can pass their historical one."""
    for code, name, tier, position, description in CATALOGUE:
        module_model.objects.update_or_create(code=code, defaults={
            "name": name, "tier": tier, "position": position, "description": description})

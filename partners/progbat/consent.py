"""The consent text shown before any data leaves MEG for ProGBat. Versioned: a new text needs a
new version, and consents record the version and the text's SHA-256."""

CONSENT_VERSION = "2026-11-01"
CONSENT_TEXT = """\
En activant la liaison entre MEG et ProGBat, j'autorise MEG à transmettre à ProGBat les données
d'identification de mon entreprise (raison sociale, SIRET, adresse) ainsi que les nom, prénom et
adresse e-mail de son dirigeant et des utilisateurs qui ouvriront ProGBat depuis MEG, afin de
rechercher ou de créer le compte ProGBat de l'entreprise et de permettre l'accès à ce compte
depuis MEG.

J'autorise ProGBat à transmettre à MEG les écritures comptables des factures que l'entreprise
validera dans ProGBat à compter de l'activation de la liaison, afin que le cabinet puisse les
exporter en comptabilité.

Le dirigeant peut retirer ce consentement à tout moment depuis l'espace ProGBat de l'entreprise
dans MEG : la liaison est alors suspendue et plus aucune donnée n'est échangée."""

"""SIRET / SIREN validation with python-stdnum and French messages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.fr import siren, siret


def _check(module, value, *, label, length):
    try:
        return module.validate(value)
    except InvalidLength:
        raise ValidationError(
            _("Le %(label)s doit comporter exactement %(length)d chiffres.")
            % {"label": label, "length": length},
            code="invalid_length",
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _("Le %(label)s ne doit contenir que des chiffres.") % {"label": label},
            code="invalid_format",
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _("Ce %(label)s n'existe pas : sa clé de contrôle est fausse. "
              "Vérifiez les chiffres saisis (avis de situation INSEE ou extrait Kbis).")
            % {"label": label},
            code="invalid_checksum",
        ) from None


def normalize_siret(value):
    """Remove spaces and dots, as people type SIRETs like ``900 000 019 00019``."""
    return siret.compact(value or "")


def validate_siret(value):
    _check(siret, normalize_siret(value), label="SIRET", length=14)


def validate_siren(value):
    _check(siren, siren.compact(value or ""), label="SIREN", length=9)

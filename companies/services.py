"""Writes about companies: one atomic function per use case, each leaving an audit row."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from firms.models import FirmMembership
from firms.services import user_get_or_create
from meg.extensions import registry

from .invitations import invitation_send
from .models import (
    Company,
    CompanyAccountant,
    CompanyMembership,
    Licence,
    Module,
    ModuleActivation,
    UserModuleAccess,
)
from .selectors import has_premium_licence

COMPANY_FIELDS = ("name", "siret", "dossier_type", "address", "postal_code", "city",
                  "fiscal_year_end_day", "fiscal_year_end_month")


def _validated_save(instance):
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def company_create(*, firm, actor, dirigeant_email, dirigeant_first_name="",
                   dirigeant_last_name="", base_url="", **fields):
    """Create a company and invite its dirigeant, who becomes dirigeant on accepting."""
    company = Company(firm=firm, **{k: v for k, v in fields.items() if k in COMPANY_FIELDS})
    _validated_save(company)
    if actor is not None and FirmMembership.objects.filter(user=actor, firm=firm).exists():
        CompanyAccountant.objects.create(firm=firm, company=company, user=actor)
    audit_record(firm=firm, company=company, actor=actor, action="company.created",
                 summary=lambda: _("Entreprise créée : %(name)s") % {"name": company.name},
                 data={"siret": company.siret, "dirigeant": dirigeant_email.strip().lower()})
    invitation_send(firm=firm, actor=actor, company=company, email=dirigeant_email,
                    role=CompanyMembership.Role.DIRIGEANT, first_name=dirigeant_first_name,
                    last_name=dirigeant_last_name, base_url=base_url)
    return company


@transaction.atomic
def company_update(*, company, actor, **fields):
    changed = {}
    for name in COMPANY_FIELDS:
        if name in fields and getattr(company, name) != fields[name]:
            changed[name] = [str(getattr(company, name)), str(fields[name])]
            setattr(company, name, fields[name])
    if not changed:
        return company
    _validated_save(company)
    audit_record(firm=company.firm, company=company, actor=actor, action="company.updated",
                 summary=lambda: _("Entreprise modifiée : %(name)s") % {"name": company.name},
                 data={"changes": changed})
    return company


_TRANSITIONS = {
    Company.State.ACTIVATED: {Company.State.CREATED, Company.State.INACTIVATED},
    Company.State.INACTIVATED: {Company.State.ACTIVATED},
}


@transaction.atomic
def company_set_state(*, company, actor, state):
    """``created → activated ↔ inactivated``; asking for the current state changes nothing."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    if company.state == state:
        return company
    if company.state not in _TRANSITIONS.get(state, set()):
        raise ValidationError(_("Impossible de passer l'entreprise de l'état « %(from)s » à "
                                "« %(to)s ».") % {"from": company.get_state_display(),
                                                 "to": Company.State(state).label})
    company.state = state
    if state == Company.State.ACTIVATED and company.activated_at is None:
        company.activated_at = timezone.now()
    company.save(update_fields=["state", "activated_at", "updated_at"])
    action = "company.activated" if state == Company.State.ACTIVATED else "company.inactivated"
    audit_record(firm=company.firm, company=company, actor=actor, action=action,
                 summary=lambda: (_("Entreprise activée : %(name)s")
                                  if state == Company.State.ACTIVATED
                                  else _("Entreprise inactivée : %(name)s"))
                 % {"name": company.name})
    return company


@transaction.atomic
def company_user_add(*, company, actor, email, role, first_name="", last_name=""):
    """Attach a person to the company at once: for an accepted invitation, and for MEG's own
    code. Pages invite instead (``companies.invitations.invitation_send``)."""
    user = user_get_or_create(email=email, first_name=first_name, last_name=last_name)
    if CompanyMembership.objects.filter(company=company, user=user).exists():
        raise ValidationError({"email": _("Cette personne est déjà utilisateur de l'entreprise.")})
    if role == CompanyMembership.Role.DIRIGEANT and CompanyMembership.objects.filter(
            company=company, role=CompanyMembership.Role.DIRIGEANT).exists():
        raise ValidationError({"role": _(
            "Cette entreprise a déjà un dirigeant. Pour le remplacer, utilisez « Définir comme "
            "dirigeant » sur la fiche de l'utilisateur.")})
    membership = _validated_save(CompanyMembership(firm=company.firm, company=company, user=user,
                                                   role=role))
    audit_record(firm=company.firm, company=company, actor=actor, action="company_user.added",
                 summary=lambda: _("Utilisateur %(email)s ajouté (%(role)s)")
                 % {"email": user.email, "role": membership.get_role_display()},
                 data={"user_id": user.pk, "role": role})
    return membership


@transaction.atomic
def company_dirigeant_change(*, company, actor, user):
    """Make ``user`` (already a company user) the dirigeant; the former one becomes salarié."""
    memberships = CompanyMembership.objects.select_for_update().filter(company=company)
    target = memberships.filter(user=user).first()
    if target is None:
        raise ValidationError(_("Ajoutez d'abord cette personne aux utilisateurs de "
                                "l'entreprise."))
    if target.role == CompanyMembership.Role.DIRIGEANT:
        return target
    memberships.filter(role=CompanyMembership.Role.DIRIGEANT).update(
        role=CompanyMembership.Role.SALARIE)
    target.role = CompanyMembership.Role.DIRIGEANT
    target.save(update_fields=["role", "updated_at"])
    audit_record(firm=company.firm, company=company, actor=actor,
                 action="company_user.dirigeant_changed",
                 summary=lambda: _("Nouveau dirigeant : %(email)s") % {"email": user.email},
                 data={"user_id": user.pk})
    return target


@transaction.atomic
def company_user_remove(*, company, actor, user):
    membership = CompanyMembership.objects.filter(company=company, user=user).first()
    if membership is None:
        return
    if membership.role == CompanyMembership.Role.DIRIGEANT:
        raise ValidationError(_("Le dirigeant ne peut pas être retiré : désignez d'abord un "
                                "autre dirigeant."))
    membership.delete()
    UserModuleAccess.objects.filter(company=company, user=user).delete()
    audit_record(firm=company.firm, company=company, actor=actor, action="company_user.removed",
                 summary=lambda: _("Utilisateur %(email)s retiré") % {"email": user.email},
                 data={"user_id": user.pk})


@transaction.atomic
def accountant_attach(*, company, actor, user):
    if not FirmMembership.objects.filter(firm=company.firm, user=user).exists():
        raise ValidationError(_("Seuls les utilisateurs du cabinet peuvent être rattachés."))
    _row, created = CompanyAccountant.objects.get_or_create(firm=company.firm, company=company,
                                                            user=user)
    if created:
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="accountant.attached",
                     summary=lambda: _("Comptable rattaché : %(email)s") % {"email": user.email},
                     data={"user_id": user.pk})


@transaction.atomic
def accountant_detach(*, company, actor, user):
    deleted, _rows = CompanyAccountant.objects.filter(company=company, user=user).delete()
    if deleted:
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="accountant.detached",
                     summary=lambda: _("Comptable détaché : %(email)s") % {"email": user.email},
                     data={"user_id": user.pk})


@transaction.atomic
def modules_save(*, company, actor, enabled_codes):
    """Save the module list of a company: switch on the ticked modules, off the others.

    Premium modules need a valid Premium licence on the company. Returns the changed modules.
    """
    enabled_codes = set(enabled_codes)
    modules = list(Module.objects.all())
    unknown = enabled_codes - {m.code for m in modules}
    if unknown:
        raise ValidationError(_("Module inconnu : %(codes)s")
                              % {"codes": ", ".join(sorted(unknown))})
    current = {a.module_id: a for a in
               ModuleActivation.objects.select_for_update().filter(company=company)}
    premium_ok = None
    changed = []
    for module in modules:
        wanted = module.code in enabled_codes
        activation = current.get(module.pk)
        if (activation.enabled if activation else False) == wanted:
            continue
        if wanted and module.is_premium:
            if premium_ok is None:
                premium_ok = has_premium_licence(company=company, today=timezone.localdate())
            if not premium_ok:
                raise ValidationError(_(
                    "Le module « %(module)s » fait partie de l'offre Premium : l'entreprise "
                    "doit d'abord disposer d'une licence MEG Premium en cours de validité.")
                    % {"module": module.name})
        hook = registry.module_hooks.get(module.code)
        if wanted and hook and hook.check_activation:
            hook.check_activation(company, actor)
        if activation is None:
            activation = ModuleActivation(firm=company.firm, company=company, module=module)
        activation.enabled = wanted
        activation.changed_by = actor
        activation.save()
        changed.append(module)
        follow_up = hook and (hook.activated if wanted else hook.deactivated)
        if follow_up:
            follow_up(company, actor)
        audit_record(firm=company.firm, company=company, actor=actor,
                     action="module.activated" if wanted else "module.deactivated",
                     summary=lambda wanted=wanted, name=module.name: (
                         _("Module « %(module)s » activé") if wanted
                         else _("Module « %(module)s » désactivé")) % {"module": name},
                     data={"module": module.code})
    return changed


@transaction.atomic
def user_module_access_set(*, company, actor, user, module, enabled, is_admin=False):
    """Switch one user's access to one module on or off, and mark module administrators."""
    if is_admin and not enabled:
        raise ValidationError(_("Un administrateur du module doit y avoir accès."))
    row, _created = UserModuleAccess.objects.update_or_create(
        company=company, module=module, user=user,
        defaults={"firm": company.firm, "enabled": enabled, "is_admin": is_admin})
    audit_record(firm=company.firm, company=company, actor=actor, action="module_access.changed",
                 summary=lambda: _("Accès de %(email)s au module « %(module)s » : "
                                   "%(state)s%(admin)s")
                 % {"email": user.email, "module": module.name,
                    "state": _("activé") if enabled else _("désactivé"),
                    "admin": _(" (administrateur)") if is_admin else ""},
                 data={"user_id": user.pk, "module": module.code, "enabled": enabled,
                       "is_admin": is_admin})
    return row


@transaction.atomic
def licence_grant(*, company, actor, user, tier, starts_on, ends_on):
    if not CompanyMembership.objects.filter(company=company, user=user).exists():
        raise ValidationError(_("Une licence se rattache à un utilisateur de l'entreprise."))
    licence = Licence(firm=company.firm, company=company, user=user, tier=tier,
                      starts_on=starts_on, ends_on=ends_on)
    try:
        _validated_save(licence)
    except IntegrityError:  # pragma: no cover - clean() catches it first
        raise ValidationError(_("Dates de licence incohérentes.")) from None
    audit_record(firm=company.firm, company=company, actor=actor, action="licence.granted",
                 summary=lambda: _("Licence %(tier)s pour %(email)s du %(start)s au %(end)s")
                 % {"tier": licence.get_tier_display(), "email": user.email,
                    "start": starts_on.strftime("%d/%m/%Y"), "end": ends_on.strftime("%d/%m/%Y")},
                 data={"user_id": user.pk, "tier": tier})
    return licence

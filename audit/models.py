"""The activity log (*journal d'activité*): one append-only row per action a user or a partner
would ask "who did this?" about. Every app writes it through ``audit.services.audit_record``."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class AuditEvent(models.Model):
    """Who did what, to which company: written by services, read by firm admins."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="audit_events",
                             verbose_name=_("cabinet"))
    company = models.ForeignKey("companies.Company", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="audit_events",
                                verbose_name=_("entreprise"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    action = models.CharField(_("action"), max_length=60, db_index=True)
    summary = models.CharField(_("résumé"), max_length=300)
    data = models.JSONField(_("détails"), default=dict, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("événement du journal d'activité")
        verbose_name_plural = _("journal d'activité")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["firm", "company", "-created_at"])]

    def __str__(self):
        return self.summary

"""Journals, entries and their lines, the chart of accounts, and exports (DESIGN §7).

What holds where: each line has exactly one non-zero side and a PCG account (database
constraints); an entry balances (Σ debit = Σ credit > 0: checked at the door by
``drafts.draft_clean`` and again by the export's self-check); definitive numbers are gapless per
journal and fiscal year (given at export under the sequence row's lock); a final entry never
changes (``save()`` here, and a PostgreSQL trigger for every other write path) and is chained by
SHA-256 to the previous one of its company.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from meg.storage import documents


class PcgAccount(models.Model):
    """The standard French chart of accounts (PCG 2014-03, consolidated 2019), read-only."""

    number = models.CharField(_("numéro"), max_length=10, primary_key=True)
    level = models.CharField(_("niveau"), max_length=10)
    label = models.CharField(_("intitulé"), max_length=200)

    class Meta:
        verbose_name = _("compte du PCG")
        verbose_name_plural = _("plan comptable général")
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} {self.label}"


class ChartAccount(models.Model):
    """A company's own account (e.g. ``411000``) on top of the PCG, with its label."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="chart_accounts", verbose_name=_("entreprise"))
    number = models.CharField(_("numéro"), max_length=20)
    label = models.CharField(_("intitulé"), max_length=200)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("compte de l'entreprise")
        verbose_name_plural = _("plan comptable des entreprises")
        ordering = ["company", "number"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="chart_account_once"),
            models.CheckConstraint(condition=Q(number__regex=r"^[1-9][0-9]{2,}$"),
                                   name="chart_account_is_pcg_number"),
            models.CheckConstraint(condition=~Q(label=""), name="chart_account_has_label"),
        ]

    def __str__(self):
        return f"{self.number} {self.label}"


class Journal(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Saisie MEG")
        PROGBAT = "progbat", "ProGBat"
        PURCHASES = "purchases", _("Achats")
        LIBEO_PAYMENTS = "libeo_payments", _("Banque Libeo")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="journals", verbose_name=_("entreprise"))
    code = models.CharField(_("code"), max_length=8, validators=[RegexValidator(
        r"^[A-Z0-9]{2,8}$", _("De 2 à 8 lettres majuscules ou chiffres (ex. VT)."))])
    label = models.CharField(_("libellé"), max_length=100)
    source = models.CharField(_("origine"), max_length=20, choices=Source.choices)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journaux")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="journal_code_once",
                                    violation_error_message=_(
                                        "Un autre journal de l'entreprise a déjà ce code.")),
            models.UniqueConstraint(fields=["company", "source"], name="one_journal_per_source"),
        ]

    def __str__(self):
        return f"{self.code} — {self.label}"


class JournalSequence(models.Model):
    """The last number given in a journal for a fiscal year: locked to number without gaps."""

    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="sequences")
    fiscal_year = models.PositiveSmallIntegerField(_("exercice"))
    last_number = models.PositiveIntegerField(_("dernier numéro"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journal", "fiscal_year"],
                                    name="one_sequence_per_journal_year"),
        ]

    def __str__(self):
        return f"{self.journal_id}/{self.fiscal_year}: {self.last_number}"


class Entry(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        EXPORTED = "exported", _("Exportée")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="entries", verbose_name=_("entreprise"))
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries",
                                verbose_name=_("journal"))
    fiscal_year = models.PositiveSmallIntegerField(_("exercice"))
    # The definitive EcritureNum, given when the entry becomes final (DESIGN §7.1): drafts
    # have none, so that a draft may move between fiscal years and numbers never show holes.
    number = models.PositiveIntegerField(_("numéro"), null=True, blank=True)
    date = models.DateField(_("date"), db_index=True)
    # The document's own date when it differs from the entry's (an invoice dated in a closed
    # fiscal year is booked on the first day of the next open one): PieceDate of the FEC.
    piece_date = models.DateField(_("date de la pièce"), null=True, blank=True)
    note = models.CharField(_("remarque"), max_length=300, blank=True)
    piece_ref = models.CharField(_("pièce"), max_length=60)
    label = models.CharField(_("libellé"), max_length=200)
    source_ref = models.CharField(_("référence d'origine"), max_length=100)
    source_version = models.PositiveIntegerField(_("version d'origine"))
    validated_at = models.DateTimeField(_("validée chez le partenaire le"))
    state = models.CharField(_("état"), max_length=10, choices=State.choices,
                             default=State.DRAFT, db_index=True)
    export = models.ForeignKey("ExportBatch", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="entries", verbose_name=_("export"))
    exported_at = models.DateTimeField(_("exportée le"), null=True, blank=True)
    chain_position = models.PositiveBigIntegerField(_("rang dans la chaîne"), null=True,
                                                    blank=True)
    previous_hash = models.CharField(_("empreinte précédente"), max_length=64, blank=True)
    chain_hash = models.CharField(_("empreinte"), max_length=64, blank=True)
    # The journal's code and label when the entry became final (JournalCode / JournalLib of
    # its files): a later rename never changes what was exported, and the seal covers them.
    journal_code = models.CharField(_("code journal à l'export"), max_length=8, blank=True)
    journal_label = models.CharField(_("libellé journal à l'export"), max_length=100,
                                     blank=True)
    chain_version = models.PositiveSmallIntegerField(_("version du chaînage"), default=1)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("écriture")
        verbose_name_plural = _("écritures")
        ordering = ["journal", "fiscal_year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["journal", "fiscal_year", "number"],
                                    name="entry_number_once_per_journal_year"),
            models.UniqueConstraint(fields=["journal", "source_ref"],
                                    name="one_entry_per_source_document"),
            models.UniqueConstraint(fields=["company", "chain_position"],
                                    name="one_entry_per_chain_position"),
            models.CheckConstraint(
                condition=Q(state="draft") | (Q(export__isnull=False) & ~Q(chain_hash="")),
                name="exported_entry_is_chained"),
            models.CheckConstraint(condition=Q(state="draft") | Q(number__isnull=False),
                                   name="final_entry_is_numbered"),
        ]
        indexes = [models.Index(fields=["company", "journal", "date"])]

    def __str__(self):
        return f"{self.reference} {self.label}"

    def save(self, *args, **kwargs):
        if self.pk and type(self).objects.with_scopes_disabled().filter(
                pk=self.pk, state=self.State.EXPORTED).exists():
            raise ValidationError(_("Une écriture exportée ne peut plus être modifiée."))
        super().save(*args, **kwargs)

    @property
    def is_exported(self):
        return self.state == self.State.EXPORTED

    @property
    def reference(self):
        """EcritureNum once final; a provisional reference while a draft."""
        if self.number is None:
            return f"{self.journal.code}-{self.fiscal_year}-P{self.pk or 0}"
        return f"{self.journal.code}-{self.fiscal_year}-{self.number:06d}"



class FiscalYear(models.Model):
    """A company's fiscal year once someone closes it (open years are derived from the
    company's closing date, so that changing it re-derives the open years only)."""

    class State(models.TextChoices):
        OPEN = "open", _("Ouvert")
        CLOSING = "closing", _("Clôture en cours")
        CLOSED = "closed", _("Clôturé")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="fiscal_years", verbose_name=_("entreprise"))
    start = models.DateField(_("début"))
    end = models.DateField(_("clôture"))
    state = models.CharField(_("état"), max_length=10, choices=State.choices,
                             default=State.OPEN)
    closed_at = models.DateTimeField(_("clôturé le"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("clôturé par"))
    fec_export = models.OneToOneField("ExportBatch", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="closing_of",
                                      verbose_name=_("FEC légal"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("exercice")
        verbose_name_plural = _("exercices")
        ordering = ["company", "-end"]
        constraints = [
            models.UniqueConstraint(fields=["company", "end"], name="fiscal_year_once"),
            models.CheckConstraint(condition=Q(end__gt=F("start")),
                                   name="fiscal_year_coherent"),
        ]

    def __str__(self):
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y} ({self.get_state_display()})"

    @property
    def is_open(self):
        return self.state == self.State.OPEN


class IntegrityCheck(models.Model):
    """The last ``verify_journals`` result of a company (run nightly, and on demand)."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.OneToOneField("companies.Company", on_delete=models.CASCADE,
                                   related_name="integrity_check",
                                   verbose_name=_("entreprise"))
    checked_at = models.DateTimeField(_("vérifié le"))
    intact = models.BooleanField(_("intègre"))
    entry_count = models.PositiveIntegerField(_("écritures vérifiées"), default=0)
    problems = models.JSONField(_("anomalies"), default=list, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("contrôle d'inaltérabilité")
        verbose_name_plural = _("contrôles d'inaltérabilité")

    def __str__(self):
        return f"{self.company_id}: {'intègre' if self.intact else 'altéré'}"


class ChainSeal(models.Model):
    """The head of a company's chain of final entries, updated in the same transaction as
    every export: a deleted or un-finalised last entry no longer matches it (DESIGN §7.1)."""

    company = models.OneToOneField("companies.Company", on_delete=models.CASCADE,
                                   related_name="chain_seal", verbose_name=_("entreprise"))
    last_position = models.PositiveBigIntegerField(_("dernier rang"), default=0)
    head_hash = models.CharField(_("empreinte de tête"), max_length=64)
    entry_count = models.PositiveIntegerField(_("écritures scellées"), default=0)
    updated_at = models.DateTimeField(_("scellé le"), auto_now=True)

    class Meta:
        verbose_name = _("sceau de la chaîne")
        verbose_name_plural = _("sceaux des chaînes")

    def __str__(self):
        return f"{self.company_id}: {self.entry_count} → {self.head_hash[:12]}"


class EntryLine(models.Model):
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("ordre"))
    account = models.CharField(_("compte"), max_length=20)
    account_label = models.CharField(_("intitulé du compte"), max_length=200)
    aux_account = models.CharField(_("compte auxiliaire"), max_length=40, blank=True)
    aux_label = models.CharField(_("libellé auxiliaire"), max_length=200, blank=True)
    label = models.CharField(_("libellé"), max_length=200)
    debit = models.DecimalField(_("débit"), max_digits=15, decimal_places=2,
                                default=Decimal("0.00"))
    credit = models.DecimalField(_("crédit"), max_digits=15, decimal_places=2,
                                 default=Decimal("0.00"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("ligne d'écriture")
        verbose_name_plural = _("lignes d'écriture")
        ordering = ["entry", "position"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "position"], name="line_position_once"),
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="line_has_exactly_one_side"),
            models.CheckConstraint(condition=~Q(account_label=""), name="line_has_account_label"),
            models.CheckConstraint(condition=Q(account__regex=r"^[1-9][0-9]{2,}$"),
                                   name="line_account_is_pcg_number"),
        ]

    def __str__(self):
        return f"{self.account} {self.debit} / {self.credit}"


class Lettering(models.Model):
    """Lines of one account that settle each other (an invoice's 401 line and its payment's),
    under one code per company (``A``, ``B``, … ``Z``, ``AA``…), as of ``date``.

    Why outside the entries: lettering happens after an entry may be final (a payment settles
    an exported invoice), and a final entry never changes. So the lettering is not part of any
    entry: these rows reference the lines (``LetteredLine``), are left out of the entry's
    canonical text and seal (``chain.canonical``), and the writers read them next to the line
    (FEC ``EcritureLet``/``DateLet``). Lettering an exported entry changes no byte of what was
    sealed; a later FEC simply shows the code.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("entreprise"))
    code = models.CharField(_("code de lettrage"), max_length=3)
    date = models.DateField(_("date de lettrage"))
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("lettrage")
        verbose_name_plural = _("lettrages")
        ordering = ["company", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="lettering_code_once"),
        ]

    def __str__(self):
        return f"{self.code} ({self.date:%d/%m/%Y})"


class LetteredLine(models.Model):
    """One line under a lettering (at most one lettering per line)."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    lettering = models.ForeignKey(Lettering, on_delete=models.CASCADE, related_name="lines",
                                  verbose_name=_("lettrage"))
    line = models.OneToOneField(EntryLine, on_delete=models.CASCADE, related_name="lettered",
                                verbose_name=_("ligne d'écriture"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("ligne lettrée")
        verbose_name_plural = _("lignes lettrées")
        ordering = ["lettering", "line"]

    def __str__(self):
        return f"{self.lettering_id}: {self.line_id}"


class ExportBatch(models.Model):
    """One export of entries (FEC or CSV): who, when, what, and the file's exact bytes."""

    class Format(models.TextChoices):
        FEC = "fec", _("FEC (fichier des écritures comptables)")
        CSV = "csv", _("CSV")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="exports", verbose_name=_("entreprise"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("exporté par"))
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    class Kind(models.TextChoices):
        IMPORT = "import", _("Export pour import")
        CLOSING = "closing", _("FEC légal de l'exercice (clôture)")

    format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices,
                            default=Kind.IMPORT)
    journal_codes = models.JSONField(_("journaux"), default=list)
    date_from = models.DateField(_("du"))
    date_to = models.DateField(_("au"))
    include_exported = models.BooleanField(_("ré-export (écritures déjà exportées incluses)"),
                                           default=False)
    encoding = models.CharField(_("encodage"), max_length=20, default="utf-8-sig")
    include_documents = models.BooleanField(_("avec les pièces (archive ZIP)"), default=False)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    entry_count = models.PositiveIntegerField(_("écritures"), default=0)
    line_count = models.PositiveIntegerField(_("lignes"), default=0)
    total_debit = models.DecimalField(_("total débit"), max_digits=17, decimal_places=2,
                                      default=Decimal("0.00"))
    file = models.FileField(_("fichier"), upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("nom du fichier"), max_length=100, blank=True)
    sha256 = models.CharField(_("SHA-256 du fichier"), max_length=64, blank=True)
    # With the pièces: the file above (self-checked, sealed) and the PDFs, in one ZIP; private
    # (the pièces are), so in the documents storage, served by the access-checked views.
    archive = models.FileField(_("archive avec les pièces"), upload_to="exports/%Y/%m/",
                               storage=documents, blank=True, max_length=200)
    archive_sha256 = models.CharField(_("SHA-256 de l'archive"), max_length=64, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("export d'écritures")
        verbose_name_plural = _("exports d'écritures")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")),
                                   name="export_period_coherent"),
        ]

    def __str__(self):
        return f"{self.get_format_display()} {self.company} {self.date_from}–{self.date_to}"

    @property
    def served_file_name(self):
        """What a download is called: the file's name, or its ZIP's with the pièces."""
        if self.include_documents and self.file_name:
            return self.file_name.rsplit(".", 1)[0] + "_pieces.zip"
        return self.file_name


class InboxEvent(models.Model):
    """A partner event received and verified, stored before any processing (DESIGN §7)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Reçu")
        PROCESSED = "processed", _("Journalisé")
        IGNORED = "ignored", _("Ignoré")
        REJECTED = "rejected", _("Refusé")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="inbox_events", verbose_name=_("entreprise"))
    partner = models.CharField(_("partenaire"), max_length=20)
    webhook_id = models.CharField(_("identifiant du webhook"), max_length=100, unique=True)
    event_type = models.CharField(_("type"), max_length=60)
    source_ref = models.CharField(_("document"), max_length=100, blank=True)
    source_version = models.PositiveIntegerField(_("version"), null=True, blank=True)
    payload = models.JSONField(_("contenu"))  # as the partner sent it
    draft = models.JSONField(_("écriture proposée"), null=True, blank=True)  # as accepted
    # Indexed with received_at below (and the waiting ones by id): a third index would
    # only cost every webhook's INSERT.
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.RECEIVED)
    reason = models.CharField(_("raison"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    entry = models.ForeignKey(Entry, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("écriture"))

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("événement reçu")
        verbose_name_plural = _("événements reçus")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            # The journalising task claims the waiting events in id order: this index holds
            # only them, so that a claim never walks the events already journalised.
            models.Index(fields=["id"], condition=Q(status="received"),
                         name="inbox_waiting_by_id"),
        ]

    def __str__(self):
        return f"{self.partner} {self.event_type} {self.source_ref} v{self.source_version}"


class BatchExport(models.Model):
    """A month-end export of many companies at once: one import export per company (made by
    the export service, each with its own ``ExportBatch``), then one ZIP of all their files."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("demandé par"))
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    selection = models.CharField(_("sélection"), max_length=200, blank=True,
                                 help_text=_("Toutes, un site ou une sélection d'entreprises."))
    site = models.ForeignKey("firms.Site", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("site"))
    format = models.CharField(_("format"), max_length=10, choices=ExportBatch.Format.choices)
    date_from = models.DateField(_("du"))
    date_to = models.DateField(_("au"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    # One item per company, in order: {company_id, name, siren, status, reason, export_id,
    # file_name}; status is pending, done, skipped or failed.
    results = models.JSONField(_("résultats par entreprise"), default=list, blank=True)
    zip_file = models.FileField(_("archive ZIP"), upload_to="batch-exports/%Y/%m/", blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("export mensuel groupé")
        verbose_name_plural = _("exports mensuels groupés")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")),
                                   name="batch_export_period_coherent"),
        ]

    def __str__(self):
        return f"{self.get_format_display()} {self.date_from}–{self.date_to} ({self.selection})"


def entry_document_name(document, filename):
    """A name nobody can guess: the file is served only by the entry's document view."""
    return f"pieces/{document.company_id}/{uuid.uuid4().hex}.pdf"


class EntryDocument(models.Model):
    """The *pièce* of a source document (a supplier invoice's PDF, a ProGBat invoice), beside
    the entries that book it (DESIGN §7.2).

    Why beside and not on the entry: a pièce arrives after the entry may be final (ProGBat's
    document is fetched once the entry is journalised; an Achats PDF may be replaced), and a
    final entry never changes (its seal, the PostgreSQL trigger). So the pièce is keyed by the
    document the entries book — (journal, ``source_ref``) — and every entry of that document,
    a correcting entry included (``source_ref`` + ``#c<n>``), shows the same pièce. Attaching
    or replacing one changes no byte that was sealed.

    The file lives in the private ``documents`` storage (no URL). An Achats pièce *references*
    the invoice's own stored PDF (same name, not a copy); a fetched one is stored here.
    """

    class Origin(models.TextChoices):
        PURCHASES = "purchases", _("Achats (PDF de la facture)")
        PARTNER = "partner", _("Document du partenaire")

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("entreprise"))
    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="documents",
                                verbose_name=_("journal"))
    source_ref = models.CharField(_("document d'origine"), max_length=100)
    source_version = models.PositiveIntegerField(_("version du document"))
    origin = models.CharField(_("provenance"), max_length=20, choices=Origin.choices)
    file = models.FileField(_("pièce (PDF)"), upload_to=entry_document_name, max_length=200,
                            storage=documents)
    size = models.PositiveIntegerField(_("taille (octets)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    attached_at = models.DateTimeField(_("jointe le"), auto_now=True)

    objects = ScopedManager(firm="firm")

    class Meta:
        verbose_name = _("pièce")
        verbose_name_plural = _("pièces")
        ordering = ["company", "journal", "source_ref"]
        constraints = [
            models.UniqueConstraint(fields=["journal", "source_ref"],
                                    name="one_document_per_source_document"),
        ]

    def __str__(self):
        return f"{self.source_ref} v{self.source_version}"

"""Extension points through which partner integrations plug into the core.

The core apps (firms, companies) must not import partner code; each partner app registers its
hooks here from its ``AppConfig.ready()``. (Payment providers register with purchases itself:
``purchases.providers``.) The attention board's sources come from accounting, purchases and
the partners alike: firms, which renders the board, imports none of them.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format


@dataclass(frozen=True)
class ModuleHook:
    """Called by ``companies.services.modules_save`` inside its transaction.

    ``check_activation(company, actor)`` raises ``ValidationError`` with a French explanation
    when the module cannot be switched on; ``activated`` / ``deactivated`` follow the change.
    """

    check_activation: Callable | None = None
    activated: Callable | None = None
    deactivated: Callable | None = None


@dataclass(frozen=True)
class Panel:
    """A block of a page: a template and a function ``(request, **objects) -> context``."""

    template_name: str
    context: Callable
    order: int = 100


@dataclass
class Registry:
    module_hooks: dict[str, ModuleHook] = field(default_factory=dict)
    dashboard_panels: list[Panel] = field(default_factory=list)
    partner_cards: list[Panel] = field(default_factory=list)
    attention_sources: list = field(default_factory=list)  # AttentionSource, below


registry = Registry()


def register_module_hook(code, hook):
    registry.module_hooks[code] = hook


def register_dashboard_panel(panel):
    registry.dashboard_panels.append(panel)
    registry.dashboard_panels.sort(key=lambda p: p.order)


def register_partner_card(panel):
    registry.partner_cards.append(panel)
    registry.partner_cards.sort(key=lambda p: p.order)


# The firm's attention board (*À traiter*, firms.attention): what needs a firm user's action,
# computed at each request from the apps that know about it, never stored.

class Severity:
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class AttentionRow:
    """One thing to fix: what, for which company (and which collaborateur when the fix is
    theirs), and where it is fixed."""

    kind: str
    severity: str
    company_id: int | None
    company_name: str
    text: str
    url: str
    user: object = None  # a User: the collaborateur concerned
    count: int | None = None


@dataclass(frozen=True)
class AttentionScope:
    """The part of a firm the board looks at.

    ``companies`` / ``users`` are unevaluated querysets of ids (None: all of the firm's): sources
    use them inside their own query, so that narrowing the board costs no query.
    """

    firm: object
    now: object  # an aware datetime
    companies: object = None
    users: object = None

    def of_companies(self, queryset, field="company"):
        queryset = queryset.filter(firm=self.firm)
        if self.companies is not None:
            queryset = queryset.filter(**{f"{field}__in": self.companies})
        return queryset

    def of_users(self, queryset, field="user"):
        queryset = queryset.filter(firm=self.firm)
        if self.users is not None:
            queryset = queryset.filter(**{f"{field}__in": self.users})
        return queryset


@dataclass(frozen=True)
class AttentionSource:
    """One kind of row of the board, registered by the app that knows about it.

    ``problems(scope)`` returns the unevaluated queryset of the objects needing attention (a
    plain filtered queryset: no ``values()``/grouping); ``rows(problems, scope)`` turns it into
    ``AttentionRow``s in one query. The board counts every source in one query (a UNION),
    one row per distinct value of ``per``, so the query count never depends on the number of
    companies. ``summary(rows, items)`` words that count for the dashboard (``items``: the
    number of objects, e.g. entries, behind the rows).
    """

    kind: str
    label: str
    severity: str
    problems: Callable
    rows: Callable
    per: str = "company_id"
    summary: Callable | None = None
    order: int = 100


def short_date(value):
    """A date or an aware datetime as a row's text shows it (Europe/Paris, the user's language)."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return date_format(value, "SHORT_DATE_FORMAT")


def register_attention_source(source):
    registry.attention_sources[:] = [s for s in registry.attention_sources
                                     if s.kind != source.kind]
    registry.attention_sources.append(source)
    registry.attention_sources.sort(key=lambda s: (s.order, s.kind))

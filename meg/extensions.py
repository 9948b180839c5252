"""Extension points through which partner integrations plug into the core.

The core apps (firms, companies) must not import partner code; each partner app registers its
hooks here from its ``AppConfig.ready()``. (Payment providers register with purchases itself:
``purchases.providers``.)
"""

from collections.abc import Callable
from dataclasses import dataclass, field


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


registry = Registry()


def register_module_hook(code, hook):
    registry.module_hooks[code] = hook


def register_dashboard_panel(panel):
    registry.dashboard_panels.append(panel)
    registry.dashboard_panels.sort(key=lambda p: p.order)


def register_partner_card(panel):
    registry.partner_cards.append(panel)
    registry.partner_cards.sort(key=lambda p: p.order)

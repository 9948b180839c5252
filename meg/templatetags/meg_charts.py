"""Server-rendered SVG charts: no chart library, readable without JavaScript."""

from django import template

register = template.Library()

COLOURS = ["#1f5fae", "#e69b00", "#2e8b57", "#8e44ad", "#c0392b", "#16a085"]
CIRCUMFERENCE = 100  # the circle's radius is chosen so that its perimeter is 100 units


@register.inclusion_tag("meg/donut.html")
def donut(items, label=""):
    """``items``: ``[(label, value)]``. Draws a ring whose arcs are proportional to the values."""
    total = sum(value for _label, value in items)
    segments, offset = [], 0.0
    for index, (name, value) in enumerate(items):
        share = (value / total * CIRCUMFERENCE) if total else 0
        segments.append({"label": name, "value": value, "colour": COLOURS[index % len(COLOURS)],
                         "dash": f"{share:.3f} {CIRCUMFERENCE - share:.3f}",
                         "offset": f"{25 - offset:.3f}",
                         "percent": round(value * 100 / total) if total else 0})
        offset += share
    return {"segments": segments, "total": total, "label": label}

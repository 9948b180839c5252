"""Account labels: the company's own chart first, else the partner's label, else the label of
the nearest PCG parent (``445720`` → ``4457``)."""

import csv
from functools import lru_cache
from pathlib import Path

from .models import ChartAccount, PcgAccount

PCG_FILE = Path(__file__).resolve().parent / "data" / "pcg-2014-03-v2019.tsv"


def load_pcg(pcg_model):
    """Load the PCG file (idempotent); takes the model so that migrations can pass theirs."""
    with PCG_FILE.open(encoding="utf-8") as tsv:
        rows = [pcg_model(number=number.strip(), level=level.strip(), label=label.strip())
                for number, level, label in csv.reader(tsv, delimiter="\t")]
    pcg_model.objects.bulk_create(rows, ignore_conflicts=True)


@lru_cache(maxsize=1)
def pcg_labels():
    return dict(PcgAccount.objects.values_list("number", "label"))


@lru_cache(maxsize=4096)  # asked for each line of each webhook
def nearest_pcg_label(number):
    labels = pcg_labels()
    for length in range(len(number), 0, -1):
        label = labels.get(number[:length])
        if label:
            return label
    return None


def resolve_labels(company, wanted):
    """``wanted``: ``{number: partner_label_or_empty}`` → ``{number: label}``.

    Accounts the company's chart lacks are added to it (in the caller's transaction).
    """
    known = dict(ChartAccount.objects.filter(company=company, number__in=list(wanted))
                 .values_list("number", "label"))
    missing = [ChartAccount(firm_id=company.firm_id, company=company, number=number,
                            label=(wanted[number] or nearest_pcg_label(number)
                                   or f"Compte {number}")[:200])
               for number in wanted if number not in known]
    if missing:
        ChartAccount.objects.bulk_create(missing, ignore_conflicts=True)
        known.update(ChartAccount.objects.filter(
            company=company, number__in=[a.number for a in missing])
            .values_list("number", "label"))
    return known

"""Month-end batch export: many companies, one job, one ZIP, a summary of what was skipped."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting.models import BatchExport, ExportBatch
from accounting.services import exports
from accounting.services.batch_exports import batch_export_run
from accounting.tasks import batch_export_sweep
from tests import factories
from tests.conftest import client_for
from users.models import ApiToken

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def entry_to_export(company, journal):
    entry = factories.EntryFactory(journal=journal, number=None,
                                   date=datetime.date(2026, 11, 2))
    factories.EntryLineFactory(entry=entry, account="607000", debit=Decimal("100.00"))
    factories.EntryLineFactory(entry=entry, account="401000", account_label="Fournisseurs",
                               debit=Decimal("0.00"), credit=Decimal("100.00"))
    return entry


@pytest.fixture
def three_companies(firm, company):
    """A and B have drafts of November to export; C has a journal and nothing to export."""
    others = [factories.CompanyFactory(firm=firm, name=f"Entreprise {n}") for n in "BC"]
    found = {"A": company, "B": others[0], "C": others[1]}
    for name, each in found.items():
        journal = factories.JournalFactory(company=each, code="HA", label="Achats")
        if name != "C":
            entry_to_export(each, journal)
    return found


@pytest.fixture
def api(accountant):
    _row, token = ApiToken.objects.create(user=accountant)
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def request_batch(client, capture, **body):
    with capture(execute=True):
        return client.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec", **body},
                           content_type="application/json")


SUMMARY = "entreprises_ignorees.csv"


def summary_rows(archive):
    """The ZIP's summary of the companies skipped (CSV, ``;``, UTF-8 with a BOM)."""
    text = archive.read(SUMMARY).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def read(field):
    with field.open("rb") as handle:
        return handle.read()


def test_batch_export_of_three_companies_with_one_skipped(
        three_companies, api, accountant, django_capture_on_commit_callbacks):
    ids = [c.pk for c in three_companies.values()]
    response = request_batch(api, django_capture_on_commit_callbacks, companies=ids)
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]

    detail = api.get(f"/api/v1/exports/batch/{batch_id}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100
    by_name = {item["name"]: item for item in detail["companies"]}
    assert by_name["Alpha Maçonnerie"]["status"] == by_name["Entreprise B"]["status"] == "done"
    assert by_name["Entreprise C"]["status"] == "skipped"
    (skipped,) = detail["skipped"]
    assert skipped["name"] == "Entreprise C" and skipped["reason_kind"] == "nothing"
    assert skipped["reason"].startswith("Aucune écriture à exporter sur cette période")

    # The ZIP holds each company's file, byte for byte, under its SIREN.
    response = api.get(f"/api/v1/exports/batch/{batch_id}/file")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    expected = {}
    for name in ("A", "B"):
        export = ExportBatch.objects.get(company=three_companies[name])
        assert export.status == "done"
        expected[f"{three_companies[name].siren}/{export.file_name}"] = read(export.file)
    assert sorted(archive.namelist()) == sorted([*expected, SUMMARY])
    for path, content in expected.items():
        assert archive.read(path) == content
    # And what was skipped, with why, for whoever opens the archive alone.
    assert summary_rows(archive) == [
        ["SIREN", "Entreprise", "État", "Raison"],
        [three_companies["C"].siren, "Entreprise C", "Ignorée", skipped["reason"]]]
    assert not ExportBatch.objects.filter(company=three_companies["C"]).exists()

    # Safe to run twice: nothing is exported again.
    batch_export_run(batch_id)
    assert ExportBatch.objects.count() == 2

    # The page, reopened later, shows the batch with each company and the reason.
    html = client_for(accountant).get("/cabinet/exports-mensuels/").content.decode()
    assert 'data-testid="batch-export"' in html
    assert 'href="/cabinet/exports-mensuels/"' in html  # in the firm menu
    assert html.count('data-testid="batch-export-company"') == 3
    assert "Aucune écriture à exporter sur cette période" in html
    assert f"/cabinet/exports-mensuels/{batch_id}/fichier/" in html
    page_zip = client_for(accountant).get(f"/cabinet/exports-mensuels/{batch_id}/fichier/")
    assert b"".join(page_zip.streaming_content) == read(BatchExport.objects.get().zip_file)


def test_the_worker_writes_reasons_and_summary_in_the_requesters_language(
        three_companies, api, accountant, django_capture_on_commit_callbacks):
    accountant.language = "en"
    accountant.save(update_fields=["language"])
    # The API request carries no language; the run happens later, in a worker.
    response = api.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec"},
                        content_type="application/json")
    assert response.status_code == 202
    batch_export_run(response.json()["id"])
    batch = BatchExport.objects.get()
    (skipped,) = [item for item in batch.results if item["status"] == "skipped"]
    assert skipped["reason"].startswith("No entry to export for this period"), skipped
    rows = summary_rows(zipfile.ZipFile(batch.zip_file.open("rb")))
    assert rows == [["SIREN", "Company", "State", "Reason"],
                    [three_companies["C"].siren, "Entreprise C", "Ignored", skipped["reason"]]]


def test_progress_per_company_while_it_runs(three_companies, api, accountant,
                                            django_capture_on_commit_callbacks):
    # The broker is not reached here (no on-commit run): the batch waits, then runs.
    response = api.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "csv"},
                        content_type="application/json")
    assert response.status_code == 202
    batch_id = response.json()["id"]
    detail = api.get(f"/api/v1/exports/batch/{batch_id}/").json()
    assert detail["status"] == "pending" and detail["progress"] == 0
    assert [item["status"] for item in detail["companies"]] == ["pending"] * 3
    assert api.get(f"/api/v1/exports/batch/{batch_id}/file").status_code == 409
    html = client_for(accountant).get(f"/cabinet/exports-mensuels/{batch_id}/").content.decode()
    assert "hx-get" in html and "<progress" in html  # polled by htmx while it runs

    with django_capture_on_commit_callbacks(execute=True):
        batch_export_run(batch_id)
    detail = api.get(f"/api/v1/exports/batch/{batch_id}/").json()
    assert detail["progress"] == 100
    assert sorted(item["status"] for item in detail["companies"]) == ["done", "done",
                                                                      "skipped"]
    html = client_for(accountant).get(f"/cabinet/exports-mensuels/{batch_id}/").content.decode()
    assert "hx-get" not in html and "Télécharger l'archive ZIP" in html


def test_a_period_across_a_closing_date_skips_each_company_with_the_reason(
        three_companies, accountant, django_capture_on_commit_callbacks):
    client = client_for(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cabinet/exports-mensuels/", {
            "scope": "all", "format": "fec", "date_from": "2026-11-01",
            "date_to": "2027-01-31"})
    assert response.status_code == 302
    batch = BatchExport.objects.get()
    assert batch.status == "done"
    for item in batch.results:
        if item["name"] == "Entreprise C" or item["reason_kind"] == "closing":
            continue
        pytest.fail(f"{item} not skipped for the closing")
    across = [item for item in batch.results if item["reason_kind"] == "closing"]
    assert len(across) == 3
    assert all(item["status"] == "skipped" and item["reason"].startswith(
        "La période traverse la clôture de l'exercice du 31/12/2026") for item in across)
    assert not ExportBatch.objects.exists()
    archive = zipfile.ZipFile(batch.zip_file.open("rb"))
    assert archive.namelist() == [SUMMARY]
    rows = summary_rows(archive)[1:]
    assert len(rows) == 3 and {row[2] for row in rows} == {"Ignorée"}
    assert all(row[3].startswith("La période traverse la clôture") for row in rows)
    html = client.get(response["Location"]).content.decode()
    assert "La période traverse la clôture" in html


def test_a_site_exports_the_companies_of_its_accountants(
        firm, three_companies, api, django_capture_on_commit_callbacks):
    lyon = factories.SiteFactory(firm=firm, name="Lyon")
    lea = factories.FirmMembershipFactory(firm=firm, role="collaborateur", site=lyon).user
    factories.CompanyAccountantFactory(company=three_companies["B"], user=lea)
    response = request_batch(api, django_capture_on_commit_callbacks, site=lyon.pk)
    assert response.status_code == 202, response.content
    detail = api.get(f"/api/v1/exports/batch/{response.json()['id']}/").json()
    assert [item["name"] for item in detail["companies"]] == ["Entreprise B"]
    assert detail["companies"][0]["status"] == "done"


def test_the_page_needs_a_site_or_a_selection_when_chosen(three_companies, accountant):
    response = client_for(accountant).post("/cabinet/exports-mensuels/", {
        "scope": "selection", "format": "fec", **NOVEMBER})
    assert response.status_code == 400
    assert "Choisissez une ou plusieurs entreprises." in response.content.decode()
    assert not BatchExport.objects.exists()


def test_another_firms_companies_and_batches_stay_out_of_reach(
        three_companies, api, other_company, other_firm_user, accountant, dirigeant,
        django_capture_on_commit_callbacks):
    response = request_batch(api, django_capture_on_commit_callbacks,
                             companies=[three_companies["A"].pk, other_company.pk])
    assert response.status_code == 400
    assert "companies" in response.json()
    assert not BatchExport.objects.exists()
    assert not ExportBatch.objects.filter(company=other_company).exists()
    response = api.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec",
                                                   "site": factories.SiteFactory().pk},
                        content_type="application/json")
    assert response.status_code == 400

    batch_id = request_batch(api, django_capture_on_commit_callbacks).json()["id"]
    _row, token = ApiToken.objects.create(user=other_firm_user)
    foreign = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert foreign.get(f"/api/v1/exports/batch/{batch_id}/").status_code == 404
    assert foreign.get(f"/api/v1/exports/batch/{batch_id}/file").status_code == 404
    assert foreign.get("/api/v1/exports/batch/").json()["count"] == 0
    other = client_for(other_firm_user)
    assert other.get(f"/cabinet/exports-mensuels/{batch_id}/").status_code == 404
    assert other.get(f"/cabinet/exports-mensuels/{batch_id}/fichier/").status_code == 404
    # Company users are not firm users: neither the page nor the API.
    assert client_for(dirigeant).get("/cabinet/exports-mensuels/").status_code == 403
    _row, token = ApiToken.objects.create(user=dirigeant)
    own = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert own.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec"},
                    content_type="application/json").status_code == 403


def test_no_journal_and_an_altered_file_are_said_per_company(
        firm, three_companies, api, django_capture_on_commit_callbacks, monkeypatch):
    bare = factories.CompanyFactory(firm=firm, name="Entreprise D")
    def altered(batch):
        raise exports.ExportFileAltered("Le fichier a été modifié.")

    monkeypatch.setattr(exports, "export_file_open", altered)
    response = request_batch(api, django_capture_on_commit_callbacks,
                             companies=[three_companies["A"].pk, bare.pk])
    detail = api.get(f"/api/v1/exports/batch/{response.json()['id']}/").json()
    assert detail["status"] == "done"
    reasons = {item["name"]: (item["reason_kind"], item["reason"]) for item in detail["skipped"]}
    assert reasons == {"Alpha Maçonnerie": ("failure", "Le fichier a été modifié."),
                       "Entreprise D": ("no_journal", "Aucun journal pour cette entreprise.")}


def test_a_batch_never_queued_is_swept_and_runs(three_companies, api):
    response = api.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec"},
                        content_type="application/json")  # on-commit queueing never ran
    BatchExport.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    batch_export_sweep.delay()  # eager in tests
    detail = api.get(f"/api/v1/exports/batch/{response.json()['id']}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100


def test_a_run_out_of_time_leaves_the_rest_to_the_next_run(three_companies, api):
    response = api.post("/api/v1/exports/batch/", {**NOVEMBER, "format": "fec"},
                        content_type="application/json")
    batch_id = response.json()["id"]
    batch = batch_export_run(batch_id, budget_seconds=0)
    assert batch.status == "running"
    assert api.get(f"/api/v1/exports/batch/{batch_id}/").json()["progress"] == 0
    batch = batch_export_run(batch_id)
    assert batch.status == "done" and ExportBatch.objects.count() == 2

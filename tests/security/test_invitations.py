"""Finding 3: a firm attached another firm's user without her consent, then saw her name and id.

Every address a firm adds (company user, firm user, a new company's dirigeant) now receives an
invitation; the membership exists only once the person accepts it on a MEG page. Until then the
firm sees the e-mail it typed and nothing else, and its answer is the same whether the address
already has an account or not.
"""

import datetime
import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from companies.invitations import invitation_accept, invitation_send
from companies.models import CompanyAccountant, CompanyMembership, Invitation
from companies.selectors import companies_for
from firms.models import FirmMembership
from tests import factories
from tests.conftest import client_for
from tests.factories import PASSWORD
from users.models import User

LINK = re.compile(r"https?://[^\s\"<>]+/invitations/[^/\s\"<>]+/")


def normalized(html, *emails):
    """A page with what legitimately differs between two requests taken out."""
    html = unescape(html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'name="invitation_id" value="\d+"', "", html)


def invitation_link(email):
    [message] = [m for m in mail.outbox if m.to == [email]]
    return LINK.search(message.body).group(0)


@pytest.fixture
def voisin(other_firm_user):
    """The admin of Cabinet Bêta (the demo's « Cabinet Voisin »)."""
    FirmMembership.objects.filter(user=other_firm_user).update(role="admin")
    return client_for(other_firm_user)


def invite_to_company(client, company, email, role="salarie"):
    return client.post(f"/cabinet/entreprises/{company.pk}/utilisateurs/",
                       {"action": "add", "email": email, "role": role,
                        "first_name": "", "last_name": ""}, follow=True)


class TestAnotherFirmsUserIsNotAttached:
    def test_adding_her_to_a_company_sends_an_invitation_and_shows_nothing_of_her(
            self, voisin, other_company, accountant, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = invite_to_company(voisin, other_company, "EXPERT@alpha.test")
        html = unescape(response.content.decode())
        assert response.status_code == 200
        assert "Invitation envoyée à expert@alpha.test." in html
        assert accountant.last_name not in html and accountant.get_full_name() not in html
        assert f'value="{accountant.pk}"' not in html  # her internal id
        assert not CompanyMembership.objects.filter(company=other_company,
                                                    user=accountant).exists()
        assert other_company not in companies_for(accountant)
        # The audit row names the address the firm typed, not the account behind it.
        event = AuditEvent.objects.get(company=other_company, action="invitation.sent")
        assert event.data == {"email": "expert@alpha.test", "role": "salarie"}
        assert [m.to for m in mail.outbox] == [["expert@alpha.test"]]

    def test_creating_a_company_with_her_as_dirigeant_shows_nothing_of_her(
            self, voisin, other_firm, accountant, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = voisin.post("/cabinet/entreprises/nouvelle/", {
                "name": "Piège SARL", "siret": "90000001900019", "dossier_type": "engagement",
                "fiscal_year_end_day": 31, "fiscal_year_end_month": 12,
                "dirigeant_email": "expert@alpha.test", "dirigeant_first_name": "X",
                "dirigeant_last_name": "Y"}, follow=True)
        html = unescape(response.content.decode())
        assert "Invitation envoyée à expert@alpha.test." in html
        assert accountant.last_name not in html
        company = other_firm.companies.get(name="Piège SARL")
        assert not CompanyMembership.objects.filter(company=company).exists()
        assert company not in companies_for(accountant)
        accountant.refresh_from_db()
        assert (accountant.first_name, accountant.last_name) != ("X", "Y")  # her account as is
        list_html = unescape(voisin.get("/cabinet/entreprises/").content.decode())
        assert accountant.last_name not in list_html

    def test_inviting_her_as_a_firm_user_attaches_nothing(self, voisin, other_firm, dirigeant,
                                                          django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = voisin.post("/cabinet/parametres/utilisateurs/", {
                "email": dirigeant.email, "first_name": "A", "last_name": "B",
                "role": "collaborateur"}, follow=True)
        html = unescape(response.content.decode())
        assert f"Invitation envoyée à {dirigeant.email}." in html
        assert dirigeant.last_name not in html
        assert not FirmMembership.objects.filter(user=dirigeant).exists()


class TestSameAnswerWhetherTheAddressExists:
    def test_company_page_is_the_same_for_a_known_and_an_unknown_address(
            self, accountant_client, company, other_firm_user):
        pages = []
        for email in (other_firm_user.email, "personne@nowhere.test"):
            response = invite_to_company(accountant_client, company, email)
            pages.append((response.status_code, response.redirect_chain,
                          normalized(response.content.decode(), email)))
            Invitation.objects.filter(email=email).update(cancelled_at=timezone.now())
        assert pages[0] == pages[1]
        assert not CompanyMembership.objects.filter(company=company,
                                                    user=other_firm_user).exists()

    def test_firm_users_page_is_the_same_for_a_known_and_an_unknown_address(
            self, accountant_client, other_firm_user):
        pages = []
        for email in (other_firm_user.email, "personne@nowhere.test"):
            response = accountant_client.post("/cabinet/parametres/utilisateurs/", {
                "email": email, "first_name": "Léa", "last_name": "Nouvelle",
                "role": "collaborateur"}, follow=True)
            pages.append((response.status_code, response.redirect_chain,
                          normalized(response.content.decode(), email)))
            Invitation.objects.filter(email=email).update(cancelled_at=timezone.now())
        assert pages[0] == pages[1]

    def test_pending_invitations_are_listed_by_email_only_and_can_be_cancelled(
            self, accountant_client, company, other_firm_user):
        invite_to_company(accountant_client, company, other_firm_user.email)
        html = unescape(accountant_client.get(
            f"/cabinet/entreprises/{company.pk}/").content.decode())
        assert "Invitations en attente" in html and other_firm_user.email in html
        assert other_firm_user.last_name not in html
        invitation = Invitation.objects.get(email=other_firm_user.email)
        response = accountant_client.post(f"/cabinet/entreprises/{company.pk}/utilisateurs/", {
            "action": "cancel_invitation", "invitation_id": invitation.pk}, follow=True)
        assert "Invitation de expert@beta.test annulée." in unescape(response.content.decode())
        invitation.refresh_from_db()
        assert invitation.cancelled_at is not None
        assert AuditEvent.objects.filter(action="invitation.cancelled", company=company).exists()

    def test_another_firms_invitation_cannot_be_cancelled(self, accountant_client, company,
                                                          other_company, other_firm_user):
        invitation = invitation_send(firm=other_company.firm, actor=other_firm_user,
                                     company=other_company, email="x@y.test", role="salarie")
        response = accountant_client.post(f"/cabinet/entreprises/{company.pk}/utilisateurs/", {
            "action": "cancel_invitation", "invitation_id": invitation.pk})
        assert response.status_code == 404
        invitation.refresh_from_db()
        assert invitation.cancelled_at is None


class TestTheInvitedPersonDecides:
    def test_the_email_is_french_with_a_plain_text_part_and_a_link(
            self, accountant_client, company, other_firm_user,
            django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invite_to_company(accountant_client, company, other_firm_user.email)
        [message] = mail.outbox
        assert message.subject == "Cabinet Alpha vous invite à rejoindre « Alpha Maçonnerie » " \
                                  "sur MEG"
        assert "Le cabinet Cabinet Alpha vous invite à rejoindre l'entreprise « Alpha " \
               "Maçonnerie »" in message.body
        assert "Mot de passe oublié" in message.body
        assert LINK.search(message.body)
        assert message.alternatives[0][1] == "text/html"
        token = LINK.search(message.body).group(0).rstrip("/").rsplit("/", 1)[1]
        assert not Invitation.objects.filter(token_hash=token).exists()  # only its hash

    def test_accepting_joins_the_company_and_only_then(self, accountant_client, company,
                                                       other_firm_user,
                                                       django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invite_to_company(accountant_client, company, other_firm_user.email)
        link = invitation_link(other_firm_user.email)
        invitee = client_for(other_firm_user)
        page = re.sub(r"</?strong>", "", unescape(invitee.get(link).content.decode()))
        assert "Le cabinet Cabinet Alpha vous invite à rejoindre l'entreprise Alpha Maçonnerie" \
               in page
        assert not CompanyMembership.objects.filter(user=other_firm_user).exists()
        response = invitee.post(link, {"action": "accept"})
        assert response.status_code == 302
        assert response["Location"] == f"/entreprise/{company.pk}/"
        membership = CompanyMembership.objects.get(company=company, user=other_firm_user)
        assert membership.role == "salarie"
        assert company in companies_for(other_firm_user)
        assert list(AuditEvent.objects.filter(company=company).order_by("id")
                    .values_list("action", flat=True)) == [
            "invitation.sent", "company_user.added", "invitation.accepted"]
        # The link is spent.
        assert "Vous avez déjà accepté" in unescape(invitee.get(link).content.decode())

    def test_declining_leaves_nothing(self, accountant_client, company, other_firm_user,
                                      django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invite_to_company(accountant_client, company, other_firm_user.email)
        link = invitation_link(other_firm_user.email)
        invitee = client_for(other_firm_user)
        assert invitee.post(link, {"action": "decline"}).status_code == 302
        assert not CompanyMembership.objects.filter(user=other_firm_user).exists()
        event = AuditEvent.objects.get(action="invitation.declined")
        assert event.actor is None  # the firm learns nothing more than the address
        assert invitee.post(link, {"action": "accept"}).status_code == 302
        assert not CompanyMembership.objects.filter(user=other_firm_user).exists()
        assert "plus valable" in unescape(invitee.get(link).content.decode())

    def test_the_link_opens_only_for_the_invited_person(self, accountant_client, company,
                                                        other_firm_user, dirigeant,
                                                        django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invite_to_company(accountant_client, company, other_firm_user.email)
        link = invitation_link(other_firm_user.email)
        for someone in (dirigeant, factories.UserFactory()):
            assert client_for(someone).get(link).status_code == 404
            assert client_for(someone).post(link, {"action": "accept"}).status_code == 404
        assert client_for(other_firm_user).get(link + "x/").status_code == 404
        assert not CompanyMembership.objects.filter(company=company,
                                                    user=other_firm_user).exists()

    def test_after_logging_in_the_person_is_back_on_the_invitation(
            self, accountant_client, company, other_firm_user,
            django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invite_to_company(accountant_client, company, other_firm_user.email)
        path = "/" + invitation_link(other_firm_user.email).split("/", 3)[3]
        visitor = Client()
        assert visitor.get(path)["Location"].startswith("/accounts/login/")
        # Logging in without ?next= (as after « Mot de passe oublié ») comes back here.
        response = visitor.post("/accounts/login/", {"login": other_firm_user.email,
                                                     "password": PASSWORD})
        assert response["Location"] == path

    def test_an_expired_invitation_cannot_be_accepted(self, company, accountant,
                                                      other_firm_user):
        invitation = invitation_send(firm=company.firm, actor=accountant, company=company,
                                     email=other_firm_user.email, role="salarie")
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1))
        with pytest.raises(Exception, match="plus valable"):
            invitation_accept(invitation=invitation, user=other_firm_user)
        assert not CompanyMembership.objects.filter(user=other_firm_user).exists()

    def test_sending_again_renews_the_pending_invitation(self, company, accountant,
                                                         django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            first = invitation_send(firm=company.firm, actor=accountant, company=company,
                                    email="new@person.test", role="salarie")
        with django_capture_on_commit_callbacks(execute=True):
            second = invitation_send(firm=company.firm, actor=accountant, company=company,
                                     email="New@Person.test", role="salarie")
        assert first.pk == second.pk
        assert Invitation.objects.filter(email="new@person.test").count() == 1
        assert len(mail.outbox) == 2
        assert LINK.search(mail.outbox[0].body).group(0) != LINK.search(
            mail.outbox[1].body).group(0)

    def test_a_new_address_gets_an_account_to_choose_a_password_with(self, company,
                                                                    accountant):
        invitation_send(firm=company.firm, actor=accountant, company=company,
                        email="nouveau@client.test", role="salarie", first_name="Léa",
                        last_name="Nouveau")
        user = User.objects.get(email="nouveau@client.test")
        assert not user.has_usable_password()
        assert not CompanyMembership.objects.filter(user=user).exists()

    def test_dirigeant_invitation_makes_the_dirigeant(self, firm, accountant):
        from companies.services import company_create

        company = company_create(firm=firm, actor=accountant, name="Nouvelle SARL",
                                 siret="90000001900019", dirigeant_email="boss@nouvelle.test")
        assert CompanyAccountant.objects.filter(company=company, user=accountant).exists()
        boss = User.objects.get(email="boss@nouvelle.test")
        invitation_accept(invitation=Invitation.objects.get(company=company), user=boss)
        assert CompanyMembership.objects.get(company=company).role == "dirigeant"


class TestFirmInvitations:
    def test_accepting_makes_a_firm_user(self, accountant_client, firm, dirigeant,
                                         django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            accountant_client.post("/cabinet/parametres/utilisateurs/", {
                "email": dirigeant.email, "first_name": "A", "last_name": "B",
                "role": "collaborateur"})
        link = invitation_link(dirigeant.email)
        response = client_for(dirigeant).post(link, {"action": "accept"})
        assert response.status_code == 302
        assert FirmMembership.objects.get(user=dirigeant).firm == firm

    def test_a_user_of_another_firm_cannot_accept_but_the_firm_is_not_told(
            self, accountant_client, firm, other_firm_user,
            django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = accountant_client.post("/cabinet/parametres/utilisateurs/", {
                "email": other_firm_user.email, "first_name": "A", "last_name": "B",
                "role": "collaborateur"}, follow=True)
        assert "Invitation envoyée à expert@beta.test" in unescape(response.content.decode())
        link = invitation_link(other_firm_user.email)
        invitee = client_for(other_firm_user)
        page = unescape(invitee.post(link, {"action": "accept"}, follow=True).content.decode())
        assert "un compte MEG ne peut appartenir qu'à un seul cabinet" in page
        assert FirmMembership.objects.get(user=other_firm_user).firm != firm

    def test_only_firm_admins_invite_firm_users(self, collaborateur):
        response = client_for(collaborateur).post("/cabinet/parametres/utilisateurs/", {
            "email": "x@y.test", "first_name": "A", "last_name": "B", "role": "admin"})
        assert response.status_code == 302
        assert not Invitation.objects.exists()


def test_a_company_whose_dirigeant_has_not_accepted_is_not_linked_to_progbat(company,
                                                                             accountant):
    """Before acceptance a company has no dirigeant: ProGBat linking says so, never crashes."""
    from partners.common.models import Consent
    from partners.progbat.models import ProgbatLink
    from partners.progbat.services.linking import progbat_link_company

    ProgbatLink.objects.create(firm=company.firm, company=company, status="pending_consent",
                               activated_at=timezone.now(), activated_by=accountant)
    Consent.objects.create(firm=company.firm, company=company, user=accountant,
                           partner="progbat", text_version="v1",
                           text_sha256=Consent.fingerprint("texte"))
    link = progbat_link_company(company=company, actor=accountant)
    assert (link.status, link.error_code) == ("error", "no_dirigeant")
    assert "accepter son invitation" in link.error_detail

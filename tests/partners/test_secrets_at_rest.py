"""Partner tokens are unreadable in the database without the key, and keys can rotate."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from partners.common.models import PartnerConnection
from tests import factories

ACCESS, REFRESH = "access-token-that-must-stay-secret", "refresh-token-that-must-stay-secret"


@pytest.fixture
def stored(firm, accountant):
    return PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat",
                                            access_token=ACCESS, refresh_token=REFRESH)


def raw_tokens(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM partners_common_partnerconnection"
                       " WHERE id = %s", [pk])
        return cursor.fetchone()


def test_tokens_are_encrypted_in_the_database(stored):
    raw_access, raw_refresh = raw_tokens(stored.pk)
    assert ACCESS not in raw_access and REFRESH not in raw_refresh
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(raw_access.encode())
    again = PartnerConnection.objects.get(pk=stored.pk)
    assert (again.access_token, again.refresh_token) == (ACCESS, REFRESH)


def test_repr_and_str_never_show_tokens(stored):
    assert ACCESS not in repr(stored) and ACCESS not in str(stored)


def test_key_rotation_reencrypts_and_the_old_key_can_go(stored, settings):
    old_key = settings.MEG_FERNET_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.MEG_FERNET_KEYS = [new_key, old_key]
    before = raw_tokens(stored.pk)
    call_command("rotate_secrets", stdout=StringIO())
    after = raw_tokens(stored.pk)
    assert after != before
    settings.MEG_FERNET_KEYS = [new_key]
    assert PartnerConnection.objects.get(pk=stored.pk).access_token == ACCESS


def test_a_wrong_key_fails_loudly_instead_of_returning_garbage(stored, settings):
    settings.MEG_FERNET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        PartnerConnection.objects.get(pk=stored.pk)


def test_the_connection_belongs_to_one_user_per_partner(stored, firm, accountant):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat")
    other = factories.FirmMembershipFactory(firm=firm).user
    PartnerConnection.objects.create(firm=firm, user=other, partner="progbat")

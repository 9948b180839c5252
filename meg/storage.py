"""Private documents (supplier invoices' PDFs): a storage without any public address.

Such files are served only by views that check the user's access first; ``url()`` refuses,
so that no page can link to a guessable ``/media/`` path. They live in
``MEG_DOCUMENTS_ROOT``, by default ``documents/`` next to the media root (outside it).
"""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    @cached_property
    def base_location(self):
        root = self._location or settings.MEG_DOCUMENTS_ROOT
        return str(root or Path(settings.MEDIA_ROOT).parent / "documents")

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "MEG_DOCUMENTS_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("A private document has no URL: a view serves it after checking "
                         "the user's access.")


def documents():
    """``STORAGES["documents"]``, for ``FileField(storage=documents)``."""
    return storages["documents"]

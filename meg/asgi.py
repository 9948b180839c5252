import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meg.settings")
application = get_asgi_application()

# ASGI servers run no system checks: refuse to serve with a missing or development secret.
from meg.checks import refuse_to_start_without_secrets  # noqa: E402

refuse_to_start_without_secrets()

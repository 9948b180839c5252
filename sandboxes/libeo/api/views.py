"""API endpoints: validate the request, call one service or selector, answer JSON."""

from rest_framework import serializers as drf
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from . import serializers as shapes

MAX_IDEMPOTENCY_KEY = 255


class Me(APIView):
    """What MEG checks before saving a key: whose account it opens, plan and usage."""

    def get(self, request):
        company = request.auth
        return Response(shapes.me_data(company, services.payments_this_month(company)))


class InvoiceUpsert(APIView):
    def put(self, request, external_id):
        shapes.check_external_id(external_id)
        data = shapes.validated(shapes.InvoiceUpsert, request.data)
        invoice, created = services.invoice_upsert(
            company=request.auth, external_id=external_id, data=data, body=request.data)
        return Response(shapes.invoice_data(invoice), status=201 if created else 200)


class Payments(APIView):
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise services.Refused("idempotency_key_required", (
                "En-tête Idempotency-Key obligatoire : une clé stable par paiement, la même "
                "à chaque nouvel essai."))
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise drf.ValidationError({"Idempotency-Key": [
                f"Au plus {MAX_IDEMPOTENCY_KEY} caractères."]})
        data = shapes.validated(shapes.PaymentCreate, request.data)
        body, _ = services.payment_create(company=request.auth, idempotency_key=key, **data)
        # A replay answers exactly what the first request got.
        return Response(body, status=201)


class PaymentDetail(APIView):
    def get(self, request, payment_id):
        return Response(services.payment_data(selectors.get_payment(request.auth, payment_id)))


class ConnectionExchange(APIView):
    """MEG trades the one-time code of "Me connecter avec MEG" for the company's API key.

    No API key yet, hence no authentication: the code is the credential (single use,
    5 minutes).
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        code = shapes.validated(shapes.ExchangeRequest, request.data)["code"]
        return Response({"api_key": services.exchange_code_redeem(code=code)})

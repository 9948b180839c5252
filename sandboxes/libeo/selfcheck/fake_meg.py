"""A tiny stand-in for MEG's OpenID provider, enough to drive « Me connecter avec MEG ».

Serves a static discovery document and a JWKS (an RSA key made with joserfc); its authorize
endpoint records the request and sends the browser straight back with a code (the person is
taken as logged in and consenting); its token endpoint checks the client's credentials, the
redirect URI and the PKCE verifier, then answers an ID token it signs itself. A check can plan
what the next ID token looks like: other claims, a foreign signing key, HS256, no token.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from .harness import CLIENT_ID, CLIENT_SECRET

KID = "meg-test-key"
IDENTITY = {"sub": "42", "email": "nouveau@demo.meg.test", "given_name": "Nina",
            "family_name": "Nouveau", "meg_company_siren": "900000027",
            "meg_company_name": "Martin Rénovation"}


def _s256(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class FakeMeg:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID}, private=True)
        # Same kid, other key: what a forged token signed by someone else looks like.
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": KID}, private=True)
        self.lock = threading.Lock()
        self.grants, self.authorize_requests, self.token_requests = {}, [], []
        self.plan = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.handle_get(self)

            def do_POST(self):
                fake.handle_post(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = f"{self.base}/o"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_token(self, *, claims=None, drop=(), key="good", id_token=True):
        """Shape the next ID token: extra or overriding claims, claims left out, signing key
        (``good``, ``rogue`` or ``hs256`` with the client secret), or none at all."""
        with self.lock:
            self.plan = {"claims": claims or {}, "drop": drop, "key": key, "id_token": id_token}

    # ---- HTTP ---------------------------------------------------------------------------------

    @staticmethod
    def _json(handler, status, data):
        body = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def handle_get(self, handler):
        url = urlsplit(handler.path)
        if url.path == "/o/.well-known/openid-configuration":
            return self._json(handler, 200, {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize/",
                "token_endpoint": f"{self.issuer}/token/",
                "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
                "userinfo_endpoint": f"{self.issuer}/userinfo/",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "HS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile", "meg_company"],
            })
        if url.path == "/o/.well-known/jwks.json":
            return self._json(handler, 200, {"keys": [self.key.as_dict(private=False)]})
        if url.path == "/o/authorize/":
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.authorize_requests.append(query)
                self.grants[code] = query
            handler.send_response(302)
            handler.send_header("Location", f"{query.get('redirect_uri')}?" + urlencode(
                {"code": code, "state": query.get("state", "")}))
            handler.end_headers()
            return None
        return self._json(handler, 404, {"error": "not_found"})

    def handle_post(self, handler):
        if urlsplit(handler.path).path != "/o/token/":
            return self._json(handler, 404, {"error": "not_found"})
        length = int(handler.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in
                parse_qs(handler.rfile.read(length).decode()).items()}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        with self.lock:
            self.token_requests.append({"form": form,
                                        "authorization": handler.headers.get("Authorization")})
            grant = self.grants.pop(form.get("code", ""), None)
            plan, self.plan = self.plan, {}
        if handler.headers.get("Authorization") != expected:
            return self._json(handler, 401, {"error": "invalid_client"})
        if (grant is None or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant.get("redirect_uri")
                or grant.get("code_challenge_method") != "S256"
                or _s256(form.get("code_verifier", "")) != grant.get("code_challenge")):
            return self._json(handler, 400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                  "scope": grant.get("scope", "")}
        if plan.get("id_token", True):
            answer["id_token"] = self._id_token(grant, plan)
        return self._json(handler, 200, answer)

    def _id_token(self, grant, plan):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "auth_time": now, "nonce": grant.get("nonce"), **IDENTITY,
                  **plan.get("claims", {})}
        for name in plan.get("drop", ()):
            claims.pop(name, None)
        kind = plan.get("key", "good")
        if kind == "hs256":
            return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(CLIENT_SECRET))
        key = self.rogue_key if kind == "rogue" else self.key
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key)

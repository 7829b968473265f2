"""Credentials over HTTP: bearer tokens, API keys, rates and reloads.

One queryd serves /users (the demo table) with per-role rules under an
"auth" section that accepts HS256/384/512 tokens (the secret from
QUERYD_JWT_SECRET), RS*, PS*, ES256, ES384 and EdDSA tokens (a JWKS file
with kids), and API keys.  Every key is generated for this run and every
token is minted by PyJWT, never by queryd.  The tests show that each
algorithm is accepted with the right key and the role claim picks the
rules; that forged, stale, foreign and malformed tokens are refused with
401 and an RFC 6750 challenge; that API keys work and near misses do not;
that a role's rate gives 429 with Retry-After and RateLimit headers, per
identity; that a reload removing a key or a JWKS kid refuses it at once,
cached or not; that no secret, token or key ever reaches the output, and
the access log names each caller's role and subject.  A second class
shows what queryd refuses to start with, and the warning for a listener
open beyond loopback without "auth".
"""

import base64
import copy
import hashlib
import hmac
import http.client
import json
import re
import secrets
import socket
import subprocess
import time
import unittest
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

import harness
from harness import USER_1, assert_json_ok, assert_problem, assert_same_json

AUDIENCE = "queryd"
ISSUER = "https://id.example.com"
SECRET_ENV = "QUERYD_JWT_SECRET"
NARROW = ["id", "name"]          # the anonymous role's columns
KEY_COLUMNS = ["id", "name"]     # the API key role's columns, its rows by its tenant claim
KEY_TENANT = 7
RATE = {"per_second": 2, "burst": 5}

# Every JWS algorithm queryd accepts, with the kid of the JWKS key that checks
# it (None: the HMAC secret).
ALGORITHMS = {
    "HS256": None, "HS384": None, "HS512": None,
    "RS256": "rsa-1", "RS384": "rsa-1", "RS512": "rsa-1",
    "PS256": "rsa-1", "PS384": "rsa-1", "PS512": "rsa-1",
    "ES256": "ec-256", "ES384": "ec-384", "EdDSA": "ed-1",
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ec_jwk(public_key):
    """An EC public JWK with coordinates of the curve's full size (RFC 7518
    6.2.1.2), which PyJWT 2.6's to_jwk does not pad: its x or y would be a
    byte short once in 256 keys."""
    numbers = public_key.public_numbers()
    size = (public_key.curve.key_size + 7) // 8
    crv = {256: "P-256", 384: "P-384"}[public_key.curve.key_size]
    return {"kty": "EC", "crv": crv, "x": b64url(numbers.x.to_bytes(size, "big")),
            "y": b64url(numbers.y.to_bytes(size, "big"))}


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Keys:
    """The signing keys of one run: the HMAC secret and the JWKS key pairs."""

    def __init__(self):
        self.secret = secrets.token_urlsafe(48)            # 64 characters
        self.private = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "rsa-2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec-256": ec.generate_private_key(ec.SECP256R1()),
            "ec-384": ec.generate_private_key(ec.SECP384R1()),
            "ed-1": ed25519.Ed25519PrivateKey.generate(),
        }
        # Signs tokens whose kid the JWKS file does not hold.
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self, without=()):
        keys = []
        for kid, key in self.private.items():
            if kid in without:
                continue
            pub = key.public_key()
            if kid.startswith("rsa"):
                jwk = json.loads(RSAAlgorithm.to_jwk(pub))
            elif kid.startswith("ec"):
                jwk = ec_jwk(pub)
            else:
                jwk = json.loads(OKPAlgorithm.to_jwk(pub))
            jwk.update(kid=kid, use="sig")
            keys.append(jwk)
        return {"keys": keys}

    def rsa_public_pem(self):
        return self.private["rsa-1"].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def auth_config(jwks_path, api_keys, role_claim="role"):
    """The served configuration: /users by role, the peers query for readers only."""
    doc = harness.demo_config()
    doc["resources"][0]["roles"] = {
        "reader": {},
        "limited": {},
        "anon": {"columns": NARROW},
        "keyrole": {"columns": KEY_COLUMNS, "rows": "id = :claims.tenant"},
    }
    doc["queries"][0]["roles"] = {"reader": {}}
    doc["auth"] = {
        "jwt": {"secret_env": SECRET_ENV, "jwks_file": str(jwks_path), "audience": AUDIENCE,
                "issuer": ISSUER, "role_claim": role_claim, "leeway_s": 30},
        "api_keys": api_keys,
        "anonymous_role": "anon",
        "roles": {"limited": {"rate": RATE}},
    }
    return doc


def narrow(row, columns):
    return {c: row[c] for c in columns}


def access_log(q):
    """The JSON lines queryd printed on stdout (its access log)."""
    try:
        text = q.stdout_path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.split("\n"):
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass
    return entries


def log_entry(q, request_id, timeout=10.0):
    def find():
        return next((e for e in access_log(q) if e.get("request_id") == request_id), None)
    return harness.wait_until(find, timeout)


class TokenTests(harness.DemoServiceTestCase):
    workers = 2

    @classmethod
    def setUpClass(cls):
        # DemoServiceTestCase.setUpClass, with the keys and files of this run.
        cls.crashes = []
        cls.keys = Keys()
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.jwks_path = cls.fixture.dir / "jwks.json"
        harness.write_config(cls.jwks_path, cls.keys.jwks())
        cls.api_key = "qk_" + secrets.token_urlsafe(32)
        cls.reload_key = "qk_" + secrets.token_urlsafe(32)
        cls.api_keys = [
            {"sha256": sha256_hex(cls.api_key), "role": "keyrole",
             "claims": {"tenant": KEY_TENANT}},
            {"sha256": sha256_hex(cls.reload_key), "role": "reader"},
        ]
        cls.base_config = auth_config(cls.jwks_path, cls.api_keys)
        cls.db = cls.fixture.start_demo_database()
        cls.database_url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD,
                                          harness.DEMO_DB)
        cls.config_path = cls.fixture.config_file("auth", cls.base_config)
        cls.queryd = cls.fixture.queryd(cls.database_url, workers=cls.workers,
                                        pool_size=cls.pool_size, config=cls.config_path,
                                        access_log=1, **{SECRET_ENV: cls.keys.secret})
        # check_log (after every test and at the end) fails on any of these in the output.
        cls.queryd.secrets += [cls.keys.secret, cls.api_key, cls.reload_key]
        cls.port = cls.queryd.port

    # ---------------------------------------------------------------- helpers

    def claims(self, **extra):
        now = int(time.time())
        doc = {"sub": "user-" + uuid.uuid4().hex[:8], "aud": AUDIENCE, "iss": ISSUER,
               "iat": now, "exp": now + 600, "role": "reader"}
        doc.update(extra)
        return {k: v for k, v in doc.items() if v is not None}

    def remember(self, token):
        """A token sent to queryd: its text must never show up in the output."""
        self.queryd.secrets.append(token)
        return token

    def mint(self, alg="HS256", kid=None, key=None, **claims):
        """A token signed by PyJWT; kid defaults to the algorithm's JWKS key."""
        kid = kid if kid is not None else ALGORITHMS[alg]
        if key is None:
            key = self.keys.secret if kid is None else self.keys.private[kid]
        headers = {"kid": kid} if kid is not None else None
        return self.remember(jwt.encode(self.claims(**claims), key, algorithm=alg,
                                        headers=headers))

    def bearer(self, path, token, **kw):
        return self.get(path, headers={"Authorization": f"Bearer {token}"}, **kw)

    def with_key(self, path, key, **kw):
        return self.get(path, headers={"X-API-Key": key}, **kw)

    def assert_invalid_token(self, resp):
        assert_problem(self, resp, 401, "unauthorized")
        challenge = resp.headers.get("WWW-Authenticate", "")
        self.assertTrue(challenge.startswith("Bearer "), resp.describe())
        self.assertIn('realm="queryd"', challenge, resp.describe())
        self.assertIn('error="invalid_token"', challenge, resp.describe())

    def assert_challenge_only(self, resp):
        """401 asking for credentials: the challenge names no error."""
        assert_problem(self, resp, 401, "unauthorized")
        self.assertEqual(resp.headers.get("WWW-Authenticate"), 'Bearer realm="queryd"',
                         resp.describe())

    def install(self, doc, expect="configuration reloaded"):
        harness.write_config(self.config_path, doc)
        return self.queryd.reload(expect=expect)

    def restore(self):
        harness.write_config(self.jwks_path, self.keys.jwks())
        self.install(self.base_config)

    # ----------------------------------------------------- accepted tokens

    def test_every_algorithm_with_its_key(self):
        for alg in ALGORITHMS:
            with self.subTest(alg=alg):
                reader = self.mint(alg)
                assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", reader)),
                                 USER_1)
                # The role claim decides the rules: the anonymous role's view.
                anon = self.mint(alg, role="anon")
                assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", anon)),
                                 narrow(USER_1, NARROW))

    def test_token_without_role_is_anonymous(self):
        token = self.mint(role=None)
        assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", token)),
                         narrow(USER_1, NARROW))

    def test_leeway_accepts_a_token_just_expired(self):
        now = int(time.time())
        token = self.mint("ES256", iat=now - 600, exp=now - 10)
        assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", token)), USER_1)

    def test_same_token_twice_same_answer(self):
        for alg in ("HS256", "RS256"):
            with self.subTest(alg=alg):
                token = self.mint(alg)
                first = self.bearer("/users/1", token)
                # Several connections: each worker thread has its own cache.
                again = [self.bearer("/users/1", token) for _ in range(4)]
                for resp in [first] + again:
                    assert_same_json(self, assert_json_ok(self, resp), USER_1)
                refused = self.mint(alg, role="stranger")
                for _ in range(3):
                    assert_problem(self, self.bearer("/users/1", refused), 403, "forbidden")

    def test_cached_token_still_expires(self):
        # Inside the leeway for a few seconds: accepted (and cached), then refused.
        exp = int(time.time()) - 24
        token = self.mint("RS256", iat=exp - 600, exp=exp)
        for _ in range(4):
            assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", token)),
                             USER_1)
        time.sleep(max(0.0, exp + 31.5 - time.time()))
        for _ in range(4):
            resp = self.bearer("/users/1", token)
            self.assert_invalid_token(resp)
            self.assertIn("expired", resp.json()["detail"])

    # ----------------------------------------------------- refused tokens

    def test_refused_tokens(self):
        now = int(time.time())
        good = self.mint("HS256")
        head, body, sig = good.split(".")
        pem = self.keys.rsa_public_pem()

        def hs256_with(secret, claims, header=None):
            header = header or {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
            signing = (b64url(json.dumps(header).encode()) + "." +
                       b64url(json.dumps(claims).encode()))
            mac = hmac.new(secret, signing.encode("ascii"), hashlib.sha256).digest()
            return signing + "." + b64url(mac)

        def signed_bytes(payload):
            return jwt.api_jws.PyJWS().encode(payload, self.keys.secret, algorithm="HS256")

        tampered_claims = self.claims(role="reader", sub="someone-else")
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        signature = "signature does not verify"
        parts = "header.payload.signature"
        # name: (token, what the refusal's detail says)
        cases = {
            "alg none": (jwt.encode(self.claims(), None, algorithm="none"), "algorithm"),
            "alg none, no signature dot": (".".join(
                jwt.encode(self.claims(), None, algorithm="none").split(".")[:2]), parts),
            # HS256 keyed with the RSA public key: the algorithm confusion attack.
            "HS256 keyed with the RSA public key": (hs256_with(pem, self.claims()), signature),
            "tampered payload": (
                f"{head}.{b64url(json.dumps(tampered_claims).encode())}.{sig}", signature),
            "tampered signature": (f"{head}.{body}.{flipped}", signature),
            "signature of another secret": (jwt.encode(
                self.claims(), "another secret, long enough for HMAC-SHA256!", "HS256"),
                signature),
            "RS256 signed by a stranger with a known kid": (self.mint(
                "RS256", kid="rsa-1", key=self.keys.stranger), signature),
            "expired": (self.mint("HS256", iat=now - 600, exp=now - 120), "expired"),
            "expired ES384": (self.mint("ES384", iat=now - 600, exp=now - 120), "expired"),
            "not yet valid": (self.mint("HS256", nbf=now + 300), "not valid yet"),
            "wrong audience": (self.mint("RS256", aud="someone-else"), "audience"),
            "no audience": (self.mint("HS256", aud=None), "audience"),
            "wrong issuer": (self.mint("EdDSA", iss="https://evil.example.com"), "issuer"),
            "unknown kid": (self.mint("RS256", kid="not-in-the-set", key=self.keys.stranger),
                            "unknown key id"),
            "kid of another kind of key": (self.mint("RS256", kid="ec-256",
                                                     key=self.keys.private["rsa-1"]),
                                           "does not fit"),
            "malformed base64": (f"{head}.{body[:5]}*{body[6:]}.{sig}", "base64url"),
            "malformed base64 signature": (f"{head}.{body}.{sig[:-4]}!!!!", "base64url"),
            "two parts": (f"{head}.{body}", parts),
            "four parts": (f"{good}.{sig}", parts),
            "header not JSON": (f"{b64url(b'{not json')}.{body}.{sig}", "header"),
            "payload not JSON": (signed_bytes(b'{"role": "reader", "aud": '), "payload"),
            "payload not an object": (signed_bytes(b'["reader"]'), "payload"),
            "over 8 KiB": (self.mint("HS256", padding="x" * 9000), "too long"),
            "role claim a number": (self.mint("HS256", role=42), "role claim"),
            "role claim an array": (self.mint("PS256", role=["reader"]), "role claim"),
            "role claim empty": (self.mint("HS256", role=""), "role claim"),
        }
        for name, (token, reason) in cases.items():
            with self.subTest(case=name):
                self.remember(token)
                resp = self.bearer("/users/1", token)
                self.assert_invalid_token(resp)
                self.assertIn(reason, resp.json()["detail"], resp.describe())
        self.assertGreater(len(cases["over 8 KiB"][0]), 8192)
        # The untampered token still passes: the refusals are the tampering's.
        assert_json_ok(self, self.bearer("/users/1", good))

    def token_of_length(self, length):
        """An HS256 reader token of exactly length characters."""
        for kid in ("", "k", "kk", "kkk"):
            for n in range(5800, 6400):
                token = jwt.encode(self.claims(sub="boundary", padding="x" * n), self.keys.secret,
                                   algorithm="HS256", headers={"kid": kid} if kid else None)
                if len(token) == length:
                    return self.remember(token)
        self.fail(f"no token of {length} characters")

    def test_token_size_limit(self):
        assert_same_json(self, assert_json_ok(self, self.bearer("/users/1",
                                                                self.token_of_length(8192))),
                         USER_1)
        resp = self.bearer("/users/1", self.token_of_length(8193))
        self.assert_invalid_token(resp)
        self.assertIn("too long", resp.json()["detail"])

    def test_challenges_and_forbidden(self):
        # No credentials where the anonymous role is not admitted.
        self.assert_challenge_only(self.get("/users/1/peers"))
        # The anonymous role where it is admitted: its view.
        assert_same_json(self, assert_json_ok(self, self.get("/users/1")),
                         narrow(USER_1, NARROW))
        # A valid token of a role the entry does not list.
        for path in ("/users/1", "/users/1/peers"):
            with self.subTest(path=path):
                assert_problem(self, self.bearer(path, self.mint(role="stranger")), 403,
                               "forbidden", mentions="stranger")
        assert_problem(self, self.bearer("/users/1/peers", self.mint(role="anon")), 403,
                       "forbidden")
        assert_json_ok(self, self.bearer("/users/1/peers", self.mint("ES384")))
        # Two credentials at once.
        resp = self.get("/users/1", headers={"Authorization": f"Bearer {self.mint()}",
                                             "X-API-Key": self.api_key})
        assert_problem(self, resp, 400, "invalid-parameter")
        self.assertIn('error="invalid_request"', resp.headers.get("WWW-Authenticate", ""))
        # Bearer without a token, or with more than one.
        for value in ("Bearer", "Bearer ", "bearer", f"Bearer {self.mint()} x"):
            with self.subTest(authorization=value):
                resp = self.get("/users/1", headers={"Authorization": value})
                assert_problem(self, resp, 400, "invalid-parameter")
                self.assertIn('error="invalid_request"', resp.headers.get("WWW-Authenticate"))
        # The scheme's name in any case.
        assert_json_ok(self, self.get("/users/1", headers={"Authorization":
                                                           f"bEaReR {self.mint()}"}))
        # Another scheme than Bearer.
        basic = base64.b64encode(b"reader:" + self.keys.secret.encode()).decode()
        self.remember(basic)
        self.assert_challenge_only(self.get("/users/1",
                                            headers={"Authorization": f"Basic {basic}"}))

    # ----------------------------------------------------------- API keys

    def test_api_keys(self):
        page = assert_json_ok(self, self.with_key("/users", self.api_key))
        # The key's role: its columns, and its rows by the key's tenant claim.
        self.assertEqual(page["data"], [{"id": KEY_TENANT, "name": page["data"][0]["name"]}])
        assert_same_json(self, assert_json_ok(self, self.with_key("/users/7", self.api_key)),
                         {"id": 7, "name": page["data"][0]["name"]})
        assert_problem(self, self.with_key("/users/1", self.api_key), 404, "not-found")
        assert_problem(self, self.with_key("/users/1/peers", self.api_key), 403, "forbidden")
        wrong = self.remember("qk_" + secrets.token_urlsafe(32))
        one_byte = self.remember(self.api_key[:-1] +
                                 ("A" if self.api_key[-1] != "A" else "B"))
        # The key's SHA-256 (what the file holds) is no key either.
        for name, key in (("wrong", wrong), ("one byte off", one_byte),
                          ("its hash", sha256_hex(self.api_key)), ("empty", "")):
            with self.subTest(key=name):
                self.assert_invalid_token(self.with_key("/users", key))

    # --------------------------------------------------------- the output

    def test_access_log_role_and_subject(self):
        sub = "alice-" + uuid.uuid4().hex[:8]
        asked = {
            "token": (self.bearer("/users/1", self.mint("RS256", sub=sub)), "reader", sub),
            "key": (self.with_key("/users/7", self.api_key), "keyrole",
                    "key:" + sha256_hex(self.api_key)[:12]),
            "anonymous": (self.get("/users/1"), "anon", None),
            "refused": (self.bearer("/users/1", self.mint(role="stranger", sub=sub)),
                        "stranger", sub),
        }
        for name, (resp, role, subject) in asked.items():
            with self.subTest(caller=name):
                request_id = resp.headers.get("X-Request-Id")
                entry = log_entry(self.queryd, request_id)
                self.assertIsNotNone(entry, f"no access log line for {request_id}")
                self.assertEqual(entry.get("status"), resp.status, entry)
                self.assertEqual(entry.get("role"), role, entry)
                self.assertEqual(entry.get("subject"), subject, entry)
        # No token, key or secret in the output so far (tearDown checks again).
        self.queryd.check_log(self)
        # With "auth", and on loopback, queryd has nothing to warn of.
        self.assertNotIn('no "auth" section', self.queryd.log_text())

    # ------------------------------------------------------------- rates

    def rate_headers(self, resp):
        limit = re.fullmatch(r'"default";r=(\d+);t=(\d+)', resp.headers.get("RateLimit", ""))
        policy = re.fullmatch(r'"default";q=(\d+);w=(\d+)',
                              resp.headers.get("RateLimit-Policy", ""))
        self.assertIsNotNone(limit, resp.describe())
        self.assertIsNotNone(policy, resp.describe())
        self.assertEqual(int(policy.group(1)), RATE["burst"], resp.describe())
        self.assertGreaterEqual(int(policy.group(2)), 1, resp.describe())
        return int(limit.group(1)), int(limit.group(2))

    def exhaust(self, client, token):
        """Requests until the first 429 (which is returned) and the 200s before it."""
        headers = {"Authorization": f"Bearer {token}"}
        passed, started = [], time.monotonic()
        for _ in range(30):
            resp = client.request("GET", "/users/1", headers=headers)
            if resp.status == 429:
                return passed, resp, time.monotonic() - started
            assert_json_ok(self, resp)
            passed.append(resp)
        self.fail("30 requests at once and still no 429")

    def test_rate_limit(self):
        alice = self.mint(role="limited", sub="alice-" + uuid.uuid4().hex[:8])
        bob = self.mint("ES256", role="limited", sub="bob-" + uuid.uuid4().hex[:8])
        with harness.KeepAliveClient(self.port) as client:
            passed, refused, elapsed = self.exhaust(client, alice)
        # The bucket starts full: at least the burst passes, each with its headers.
        self.assertGreaterEqual(len(passed), RATE["burst"])
        for resp in passed:
            remaining, _ = self.rate_headers(resp)
            self.assertLess(remaining, RATE["burst"], resp.describe())
        self.assertEqual(self.rate_headers(passed[0])[0], RATE["burst"] - 1)
        if elapsed < 0.4:
            # Too quick for a token to come back: the 6th is the one refused.
            self.assertEqual(len(passed), RATE["burst"])
        assert_problem(self, refused, 429, "too-many-requests")
        retry = refused.headers.get("Retry-After", "")
        self.assertRegex(retry, r"^[0-9]+$", refused.describe())
        self.assertGreaterEqual(int(retry), 1)
        self.assertLessEqual(int(retry), 5)
        remaining, reset = self.rate_headers(refused)
        self.assertEqual(remaining, 0)
        self.assertGreaterEqual(reset, 1)
        # Another subject of the same role has its own bucket.
        resp = self.bearer("/users/1", bob)
        assert_json_ok(self, resp)
        self.assertEqual(self.rate_headers(resp)[0], RATE["burst"] - 1)
        # After Retry-After, alice passes again.
        time.sleep(int(retry))
        deadline = time.monotonic() + 15
        while True:
            resp = self.bearer("/users/1", alice)
            if resp.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert_json_ok(self, resp)
        self.rate_headers(resp)
        # Roles without a rate have no RateLimit headers.
        resp = self.bearer("/users/1", self.mint())
        assert_json_ok(self, resp)
        self.assertNotIn("RateLimit", resp.headers)

    # ------------------------------------------------------------ reloads

    def test_reload_removes_an_api_key(self):
        try:
            assert_same_json(self, assert_json_ok(self, self.with_key("/users/1",
                                                                      self.reload_key)),
                             USER_1)
            doc = copy.deepcopy(self.base_config)
            doc["auth"]["api_keys"] = [k for k in doc["auth"]["api_keys"]
                                       if k["sha256"] != sha256_hex(self.reload_key)]
            self.install(doc)
            for _ in range(4):
                self.assert_invalid_token(self.with_key("/users/1", self.reload_key))
            # The key that stays still works.
            assert_json_ok(self, self.with_key("/users/7", self.api_key))
        finally:
            self.restore()
        assert_json_ok(self, self.with_key("/users/1", self.reload_key))

    def test_reload_removes_a_jwks_kid_even_when_cached(self):
        try:
            token = self.mint("RS256", kid="rsa-2")
            other = self.mint("RS256")
            # Cached by both workers, as far as the connections spread.
            for _ in range(6):
                assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", token)),
                                 USER_1)
            harness.write_config(self.jwks_path, self.keys.jwks(without=("rsa-2",)))
            self.queryd.reload()
            for _ in range(6):
                self.assert_invalid_token(self.bearer("/users/1", token))
            assert_json_ok(self, self.bearer("/users/1", other))
        finally:
            self.restore()
        assert_json_ok(self, self.bearer("/users/1", self.mint("RS256", kid="rsa-2")))

    def test_a_request_on_the_replaced_configuration_caches_nothing(self):
        # A request pinned to the configuration before a reload (its body
        # still coming) must not leave its token verified for the new one.
        token = self.mint("HS256")
        doc = copy.deepcopy(self.base_config)
        doc["auth"]["jwt"]["audience"] = "somewhere-else"
        head = (f"GET /users/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Content-Length: 5\r\n\r\n").encode()
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            sock.sendall(head + b"ab")
            time.sleep(0.2)  # the head is in: the request holds the old configuration
            self.install(doc)
            sock.sendall(b"cde")
            first = http.client.HTTPResponse(sock)
            first.begin()
            self.assertEqual(first.status, 200, "served on the configuration it started on")
            first.read()
            # The same connection, so the same worker and its cache.
            sock.sendall(head + b"abcde")
            again = http.client.HTTPResponse(sock)
            again.begin()
            body = again.read()
            self.assertEqual(again.status, 401, body)
            self.assertIn(b"audience", body)
        finally:
            sock.close()
            self.restore()

    def test_reload_with_a_broken_jwks_keeps_the_keys(self):
        token = self.mint("EdDSA")
        try:
            harness.write_config(self.jwks_path, '{"keys": [{"kty": "RSA"')
            line = self.queryd.reload(expect="configuration reload rejected")
            self.assertIn(str(self.jwks_path), line)
            assert_json_ok(self, self.bearer("/users/1", token))
            assert_json_ok(self, self.bearer("/users/1", self.mint("ES384")))
        finally:
            self.restore()

    def test_dotted_role_claim(self):
        try:
            self.install(auth_config(self.jwks_path, self.api_keys, role_claim="app.role"))
            nested = self.mint("ES256", role=None, app={"role": "reader"})
            assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", nested)),
                             USER_1)
            # "role" at the top is no longer the role: the anonymous view.
            flat = self.mint("ES256")
            assert_same_json(self, assert_json_ok(self, self.bearer("/users/1", flat)),
                             narrow(USER_1, NARROW))
            self.assert_invalid_token(self.bearer(
                "/users/1", self.mint(role=None, app={"role": {"name": "reader"}})))
        finally:
            self.restore()


class StartupTests(unittest.TestCase):
    """What queryd refuses to start with, and the warning of an open listener."""

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.database_url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD,
                                          harness.DEMO_DB)
        cls.keys = Keys()
        cls.jwks_path = harness.write_config(cls.fixture.dir / "jwks.json", cls.keys.jwks())

    def start_refused(self, doc, **env):
        path = self.fixture.config_file("startup", doc)
        full = {"QUERYD_DATABASE_URL": self.database_url, "QUERYD_CONFIG": str(path),
                "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}"}
        full.update(env)
        code, out, err = harness.run_queryd_once(full, timeout=60)
        self.assertNotEqual(code, 0, f"queryd started with {doc}:\n{out}\n{err}")
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, out + err)
        self.assertNotIn(harness.APP_PASSWORD, out + err)
        return out + err

    def test_secret_unset(self):
        text = self.start_refused(auth_config(self.jwks_path, []))
        self.assertIn(SECRET_ENV, text)
        self.assertIn("not set", text)

    def test_secret_too_short(self):
        short = "short-secret-" + secrets.token_hex(8)     # 29 bytes
        text = self.start_refused(auth_config(self.jwks_path, []), **{SECRET_ENV: short})
        self.assertIn(SECRET_ENV, text)
        self.assertIn("32 bytes", text)
        self.assertNotIn(short, text)
        self.assertNotIn(short[-8:], text)

    def test_jwks_does_not_parse(self):
        bad = harness.write_config(self.fixture.dir / "broken-jwks.json", '{"keys": [')
        text = self.start_refused(auth_config(bad, []), **{SECRET_ENV: self.keys.secret})
        self.assertIn(str(bad), text)
        self.assertNotIn(self.keys.secret, text)

    def test_roles_without_auth(self):
        doc = harness.demo_config()
        doc["resources"][0]["roles"] = {"reader": {}}
        text = self.start_refused(doc)
        self.assertIn('"/users"', text)
        self.assertIn('"roles"', text)
        self.assertIn('"auth" section', text)

    def test_open_listener_without_auth_warns(self):
        q = OpenQueryd(self.fixture, self.database_url)
        try:
            q.start()
            line = q.wait_for_log('no "auth" section', timeout=10)
            self.assertIsNotNone(line, q.log_text()[-2000:])
            self.assertIn("0.0.0.0", line)
        finally:
            q.stop_and_check(self)


class OpenQueryd(harness.Queryd):
    """A queryd listening on every address (the harness listens on loopback)."""

    def __init__(self, fixture, database_url):
        env = {"QUERYD_DATABASE_URL": database_url, "QUERYD_WORKERS": 1,
               "QUERYD_POOL_SIZE": 1}
        super().__init__(fixture.dir, "open", env, secrets={harness.APP_PASSWORD})
        fixture.queryds.append(self)

    def _spawn(self):
        env = self.env_for_child()
        env["QUERYD_LISTEN"] = f"0.0.0.0:{self.port}"
        self.returncode = None
        with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(
                [harness.queryd_binary()], env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, preexec_fn=harness._die_with_parent)


if __name__ == "__main__":
    harness.main()

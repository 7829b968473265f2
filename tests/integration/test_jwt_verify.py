"""JWT verification (src/auth) against tokens minted by an independent library.

Keys are generated per run with python3-cryptography (RSA 2048, P-256, P-384,
Ed25519, an HMAC secret) and tokens minted with PyJWT, or crafted by hand
where PyJWT refuses to make them (alg none, HMAC keyed with a public key,
malformed parts).  They are fed to the jwt_check driver
(tests/unit/auth/jwt_check.c), which runs jwt_verify on each and prints
"ok <claims>" or "refused <why>".  No MariaDB and no queryd are needed.

    python3 tests/integration/test_jwt_verify.py --driver build-asan/tests/unit/jwt_check -v

QUERYD_JWT_CHECK_WRAPPER="valgrind --error-exitcode=99 --leak-check=full"
runs the driver under that command (a driver built without sanitizers).
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shlex
import subprocess
import tempfile
import unittest

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import harness

_driver = None
RUN_TIMEOUT = 120
NOW = 1_700_000_000
AUDIENCE = "queryd"
ISSUER = "https://issuer.example"
SECRET_ENV = "QUERYD_TEST_JWT_SECRET"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_uint(value, size=None):
    size = size or max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_bytes(value):
    return value if isinstance(value, (bytes, str)) else json.dumps(value).encode()


def craft(header, payload, secret=None, signature=b""):
    """A compact JWS from raw parts, HMAC-SHA256 signed with secret when given."""
    signing_input = b64url(json_bytes(header)) + "." + b64url(json_bytes(payload))
    if secret is not None:
        if isinstance(secret, str):
            secret = secret.encode()
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def replace_part(token, index, text):
    parts = token.split(".")
    parts[index] = text
    return ".".join(parts)


def flip_signature_byte(token):
    sig = bytearray(b64url_decode(token.split(".")[2]))
    sig[len(sig) // 2] ^= 0x01
    return replace_part(token, 2, b64url(bytes(sig)))


def claims(**extra):
    base = {"sub": "user-1", "aud": AUDIENCE, "iss": ISSUER, "iat": NOW - 10,
            "nbf": NOW - 10, "exp": NOW + 300, "roles": ["reader", "writer"],
            "name": "Zo\u00eb \u65e5\u672c", "ratio": 1.5, "nested": {"a": [1, None, True]}}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def rsa_jwk(public_key, kid, **extra):
    numbers = public_key.public_numbers()
    return dict({"kty": "RSA", "kid": kid, "n": b64url_uint(numbers.n),
                 "e": b64url_uint(numbers.e)}, **extra)


def ec_jwk(public_key, kid, crv, size, **extra):
    numbers = public_key.public_numbers()
    return dict({"kty": "EC", "crv": crv, "kid": kid, "x": b64url_uint(numbers.x, size),
                 "y": b64url_uint(numbers.y, size)}, **extra)


def ed_jwk(public_key, kid):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64url(raw)}


class JwtVerifyTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not _driver or not os.access(_driver, os.X_OK):
            raise RuntimeError("pass --driver PATH (the jwt_check executable)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="queryd-jwt-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.secret = secrets.token_urlsafe(32)
        cls.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.p256 = ec.generate_private_key(ec.SECP256R1())
        cls.p384 = ec.generate_private_key(ec.SECP384R1())
        cls.ed = ed25519.Ed25519PrivateKey.generate()
        cls.other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.jwks = {"keys": [
            rsa_jwk(cls.rsa.public_key(), "rsa-1", use="sig"),
            rsa_jwk(cls.rsa.public_key(), "rsa-ps", alg="PS256"),
            rsa_jwk(cls.other_rsa.public_key(), "rsa-enc", use="enc"),
            ec_jwk(cls.p256.public_key(), "ec-256", "P-256", 32),
            ec_jwk(cls.p384.public_key(), "ec-384", "P-384", 48, alg="ES384"),
            ed_jwk(cls.ed.public_key(), "ed-1"),
        ]}
        cls.jwks_path = cls.write_jwks("jwks.json", cls.jwks)
        cls.rsa_pem = cls.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def write_jwks(cls, name, content):
        path = os.path.join(cls.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def setUp(self):
        self.maxDiff = None

    # ---- running the driver

    def run_driver(self, args, tokens, secret=None):
        env = dict(os.environ)
        env.pop(SECRET_ENV, None)
        if secret is not None:
            env[SECRET_ENV] = secret
        wrapper = shlex.split(os.environ.get("QUERYD_JWT_CHECK_WRAPPER", ""))
        proc = subprocess.run(wrapper + [_driver] + args, env=env, capture_output=True,
                              input="".join(t + "\n" for t in tokens).encode(),
                              timeout=RUN_TIMEOUT)
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, out + err, err[-4000:])
        return proc.returncode, out, err

    def verify(self, tokens, aud=AUDIENCE, iss=ISSUER, leeway=None, secret="default",
               jwks="default", now=NOW):
        """The driver's verdicts on tokens: ("ok", claims) or ("refused", why)."""
        args = ["--now", str(now)]
        if jwks == "default":
            jwks = self.jwks_path
        if jwks is not None:
            args += ["--jwks", jwks]
        if secret == "default":
            secret = self.secret
        if secret is not None:
            args += ["--secret-env", SECRET_ENV]
        for flag, value in (("--aud", aud), ("--iss", iss), ("--leeway", leeway)):
            if value is not None:
                args += [flag, str(value)]
        code, out, err = self.run_driver(args, tokens, secret)
        self.assertEqual(code, 0, err[-4000:])
        lines = out.splitlines()
        self.assertEqual(len(lines), len(tokens), out)
        verdicts = []
        for line in lines:
            status, _, rest = line.partition(" ")
            verdicts.append((status, json.loads(rest) if status == "ok" else rest))
        for _, rest in verdicts:
            self.assertNotIn(self.secret, json.dumps(rest))
        return verdicts

    def assert_ok(self, token, expected_claims, **options):
        status, rest = self.verify([token], **options)[0]
        self.assertEqual(status, "ok", f"refused: {rest}")
        self.assertEqual(rest, expected_claims)

    def assert_refused(self, token, why_part, **options):
        status, rest = self.verify([token], **options)[0]
        self.assertEqual(status, "refused", f"accepted: {rest}")
        self.assertIn(why_part, rest)
        return rest

    def assert_all_refused(self, cases, **options):
        """cases: (label, token, part of the reason)."""
        verdicts = self.verify([token for _, token, _ in cases], **options)
        for (label, _, why_part), (status, rest) in zip(cases, verdicts):
            with self.subTest(label):
                self.assertEqual(status, "refused", f"{label} accepted: {rest}")
                self.assertIn(why_part, rest, label)

    def mint(self, alg, payload=None, kid="auto", headers=None):
        keys = {"HS": (self.secret, None), "RS": (self.rsa, "rsa-1"), "PS": (self.rsa, "rsa-1"),
                "ES256": (self.p256, "ec-256"), "ES384": (self.p384, "ec-384"),
                "EdDSA": (self.ed, "ed-1")}
        key, default_kid = keys.get(alg, keys.get(alg[:2]))
        header = dict(headers or {})
        if kid == "auto" and default_kid:
            header["kid"] = default_kid
        elif kid not in ("auto", None):
            header["kid"] = kid
        return jwt.encode(claims() if payload is None else payload, key, algorithm=alg,
                          headers=header or None)

    # ---- accepted

    def test_every_algorithm_with_its_key(self):
        algs = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
                "PS512", "ES256", "ES384", "EdDSA"]
        tokens = [self.mint(alg) for alg in algs]
        for alg, (status, rest) in zip(algs, self.verify(tokens)):
            with self.subTest(alg):
                self.assertEqual(status, "ok", f"{alg} refused: {rest}")
                self.assertEqual(rest, claims())

    def test_without_kid_the_only_fitting_key(self):
        # One P-256 key, one P-384 key, one Ed25519 key, one RSA key for RS256
        # (rsa-ps is for PS256 only, rsa-enc not for signatures).
        for alg in ("ES256", "ES384", "EdDSA", "RS256"):
            with self.subTest(alg):
                self.assert_ok(self.mint(alg, kid=None), claims())
        # Two keys fit PS256 (rsa-1 and rsa-ps): the token must say which.
        self.assert_refused(self.mint("PS256", kid=None), "no key id")
        self.assert_ok(self.mint("PS256", kid="rsa-ps"), claims())

    def test_hmac_only_with_the_secret(self):
        self.assert_ok(self.mint("HS256"), claims(), jwks=None)
        self.assert_ok(self.mint("HS256", kid="rsa-1"), claims())  # its kid is not used
        other = jwt.encode(claims(), "another-secret-of-enough-length!", algorithm="HS256")
        self.assert_refused(other, "signature does not verify")
        self.assert_refused(self.mint("HS256"), "algorithm is not accepted", secret=None)
        self.assert_refused(self.mint("RS256"), "algorithm is not accepted", jwks=None)

    def test_typ(self):
        for typ in ("JWT", "jwt", "at+jwt", "application/at+JWT"):
            with self.subTest(typ):
                self.assert_ok(self.mint("ES256", headers={"typ": typ}), claims())
        self.assert_refused(self.mint("ES256", headers={"typ": "JOSE+JSON"}), "type")

    def test_audience_and_issuer_optional(self):
        payload = claims(aud=None, iss=None)
        self.assert_ok(self.mint("EdDSA", payload), payload, aud=None, iss=None)
        listed = claims(aud=["other", AUDIENCE])
        self.assert_ok(self.mint("RS256", listed), listed)
        no_exp = claims(exp=None, nbf=None, iat=None)
        self.assert_ok(self.mint("HS256", no_exp), no_exp)

    def test_token_of_8_kib_exactly(self):
        for pad in range(5000, 6200):
            token = self.mint("HS256", claims(pad="x" * pad))
            if len(token) == 8192:
                break
        self.assertEqual(len(token), 8192)
        self.assert_ok(token, claims(pad="x" * pad))
        self.assert_refused(self.mint("HS256", claims(pad="x" * (pad + 3))), "too long")

    # ---- refused: algorithms and keys

    def test_alg_none(self):
        cases = []
        for name in ("none", "None", "NONE", "nOnE"):
            header = {"alg": name, "typ": "JWT"}
            cases.append((name, craft(header, claims()), "algorithm"))
            cases.append((name + " signed", craft(header, claims(), secret=self.secret),
                          "algorithm"))
        cases.append(("no alg", craft({"typ": "JWT"}, claims(), secret=self.secret),
                      "no algorithm"))
        cases.append(("unknown alg", craft({"alg": "HS1"}, claims(), secret=self.secret),
                      "algorithm"))
        cases.append(("ES512", craft({"alg": "ES512"}, claims(), signature=b"\0" * 132),
                      "algorithm"))
        self.assert_all_refused(cases)

    def test_algorithm_confusion(self):
        """HS256 keyed with the RSA public key's PEM, as a JWKS-only verifier might misuse it."""
        cases = []
        for kid in ("rsa-1", None):
            header = {"alg": "HS256", "typ": "JWT"}
            if kid:
                header["kid"] = kid
            cases.append((f"kid {kid}", craft(header, claims(), secret=self.rsa_pem),
                          "algorithm is not accepted"))
        self.assert_all_refused(cases, secret=None)
        # With a (different) HMAC secret configured too, the PEM is still no key.
        for label, token, _ in cases:
            with self.subTest(label, secret=True):
                self.assert_refused(token, "signature does not verify")

    def test_key_of_the_wrong_kind(self):
        cases = [
            ("ES256 with an RSA kid", self.mint("ES256", kid="rsa-1"), "does not fit"),
            ("RS256 with an EC kid", self.mint("RS256", kid="ec-256"), "does not fit"),
            ("ES384 with a P-256 kid", self.mint("ES384", kid="ec-256"), "does not fit"),
            ("ES256 with a P-384 kid", self.mint("ES256", kid="ec-384"), "does not fit"),
            ("EdDSA with an RSA kid", self.mint("EdDSA", kid="rsa-1"), "does not fit"),
            ("RS256 with a PS256-only key", self.mint("RS256", kid="rsa-ps"), "does not fit"),
            ("unknown kid", self.mint("RS256", kid="nobody"), "unknown key id"),
            ("kid of an encryption key", jwt.encode(claims(), self.other_rsa, algorithm="RS256",
                                                    headers={"kid": "rsa-enc"}),
             "unknown key id"),
            ("kid not a string", craft({"alg": "RS256", "kid": 7}, claims(),
                                       signature=b"\1" * 256), "key id is not a string"),
            ("crit", self.mint("ES256", headers={"crit": ["exp"], "exp": 1}), "crit"),
            ("embedded jwk", jwt.encode(claims(), self.other_rsa, algorithm="RS256",
                                        headers={"kid": "rsa-1", "jwk": rsa_jwk(
                                            self.other_rsa.public_key(), "rsa-1")}),
             "signature does not verify"),
        ]
        self.assert_all_refused(cases)

    def test_tampering(self):
        cases = []
        forged = b64url(json.dumps(claims(sub="admin")))
        for alg in ("HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"):
            token = self.mint(alg)
            cases.append((f"{alg} payload", replace_part(token, 1, forged),
                          "signature does not verify"))
            cases.append((f"{alg} signature", flip_signature_byte(token),
                          "signature does not verify"))
            cases.append((f"{alg} no signature", replace_part(token, 2, ""),
                          "signature does not verify"))
            sig = b64url_decode(token.split(".")[2])
            cases.append((f"{alg} short signature", replace_part(token, 2, b64url(sig[:-1])),
                          "signature does not verify"))
            cases.append((f"{alg} long signature", replace_part(token, 2, b64url(sig + b"\0")),
                          "signature does not verify"))
        self.assert_all_refused(cases)

    # ---- refused: claims

    def test_claims(self):
        cases = [
            ("expired", self.mint("RS256", claims(exp=NOW - 100)), "the token has expired"),
            ("expires now", self.mint("RS256", claims(exp=NOW)), "the token has expired"),
            ("not valid yet", self.mint("ES256", claims(nbf=NOW + 100)), "not valid yet"),
            ("issued in the future", self.mint("EdDSA", claims(iat=NOW + 100)),
             "issued in the future"),
            ("wrong audience", self.mint("HS256", claims(aud="other")),
             "the token's audience is not queryd"),
            ("audience list without us", self.mint("HS256", claims(aud=["a", "b"])),
             "audience is not queryd"),
            ("no audience", self.mint("HS256", claims(aud=None)), "no audience"),
            ("audience not a string", self.mint("HS256", claims(aud=[AUDIENCE, 3])),
             "aud claim"),
            ("wrong issuer", self.mint("PS256", claims(iss="https://evil.example")),
             "issuer is not"),
            ("no issuer", self.mint("PS256", claims(iss=None)), "no issuer"),
            ("exp as a string", self.mint("HS256", claims(exp=str(NOW + 300))),
             "exp claim is not a number"),
            ("nbf as a string", self.mint("HS256", claims(nbf="0")), "nbf claim"),
            ("iat as a bool", self.mint("HS256", claims(iat=True)), "iat claim"),
            ("sub as a number", self.mint("HS256", claims(sub=42)), "sub claim"),
        ]
        self.assert_all_refused(cases)

    def test_leeway(self):
        expired = self.mint("ES256", claims(exp=NOW - 10))
        early = self.mint("ES256", claims(nbf=NOW + 10, iat=NOW + 10))
        self.assert_ok(expired, claims(exp=NOW - 10), leeway=30)
        self.assert_refused(expired, "expired", leeway=5)
        self.assert_ok(early, claims(nbf=NOW + 10, iat=NOW + 10), leeway=30)
        self.assert_refused(early, "not valid yet", leeway=5)

    # ---- refused: form

    def test_malformed(self):
        good = self.mint("HS256")
        header, payload, sig = good.split(".")
        s = self.secret
        cases = [
            ("'+' in the header", "+" + header[1:] + "." + payload + "." + sig, "base64url"),
            ("'/' in the payload", header + "." + payload[:5] + "/" + payload[6:] + "." + sig,
             "base64url"),
            ("'=' padding", header + "." + payload + "." + sig + "=", "base64url"),
            ("padded header", b64url_pad(header) + "." + payload + "." + sig, "base64url"),
            ("space in the signature", header + "." + payload + "." + sig[:4] + " " + sig[4:],
             "base64url"),
            ("one character too many", header + "." + payload + "A." + sig, "base64url"),
            ("header not JSON", craft(b"{alg:HS256}", claims(), secret=s), "not a JSON object"),
            ("payload not JSON", craft({"alg": "HS256"}, b'{"sub": "a",', secret=s),
             "not a JSON object"),
            ("header an array", craft(b'["alg", "HS256"]', claims(), secret=s),
             "not a JSON object"),
            ("payload an array", craft({"alg": "HS256"}, b"[1, 2]", secret=s),
             "not a JSON object"),
            ("payload a string", craft({"alg": "HS256"}, b'"sub"', secret=s),
             "not a JSON object"),
            ("duplicate claim", craft({"alg": "HS256"}, b'{"sub":"a","sub":"admin"}',
                                      secret=s), "not a JSON object"),
            ("duplicate header member", craft(b'{"alg":"HS256","alg":"none"}', claims(),
                                              secret=s), "not a JSON object"),
            ("NUL in a claim", craft({"alg": "HS256"}, b'{"sub":"a\\u0000b"}', secret=s),
             "not a JSON object"),
            ("trailing garbage", craft({"alg": "HS256"}, json.dumps(claims()) + " x",
                                       secret=s), "not a JSON object"),
            ("no dot", header + payload + sig, "header.payload.signature"),
            ("one dot", header + "." + payload, "header.payload.signature"),
            ("three dots", good + ".", "header.payload.signature"),
            ("four dots", good + "." + sig + "." + sig, "header.payload.signature"),
            ("empty", "", "header.payload.signature"),
            ("only dots", "..", "not a JSON object"),
            ("over 8 KiB", good + "A" * (8193 - len(good)), "too long"),
            ("far over 8 KiB", "A" * 100000 + "." + payload + "." + sig, "too long"),
        ]
        self.assert_all_refused(cases)

    # ---- key files

    def test_bad_key_files(self):
        pub = self.p256.public_key().public_numbers()
        private_numbers = self.p256.private_numbers()
        good_ec = ec_jwk(self.p256.public_key(), "ec-256", "P-256", 32)
        off_curve = dict(good_ec, y=b64url_uint((pub.y + 1) % (2 ** 256), 32))
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        cases = [
            ("private part", {"keys": [dict(good_ec, d=b64url_uint(private_numbers.private_value,
                                                                     32))]}, "private"),
            ("symmetric key", {"keys": [{"kty": "oct", "kid": "hs", "k": b64url(b"x" * 32)}]},
             "hs"),
            ("unsupported kty", {"keys": [{"kty": "XYZ", "kid": "odd"}]}, "kty"),
            ("P-521", {"keys": [dict(good_ec, crv="P-521")]}, "P-521"),
            ("X25519", {"keys": [dict(ed_jwk(self.ed.public_key(), "x"), crv="X25519")]},
             "X25519"),
            ("point off the curve", {"keys": [off_curve]}, "valid EC public key"),
            ("short coordinate", {"keys": [dict(good_ec, x=b64url(b"\1" * 31))]}, "32 bytes"),
            ("RSA 1024", {"keys": [rsa_jwk(small.public_key(), "small")]}, "2048"),
            ("alg of another kind", {"keys": [dict(good_ec, alg="RS256")]}, "alg"),
            ("unknown alg", {"keys": [dict(good_ec, alg="none")]}, "alg"),
            ("padded member", {"keys": [dict(good_ec, x=good_ec["x"] + "=")]}, "base64url"),
            ("kid not a string", {"keys": [dict(good_ec, kid=5)]}, "kid"),
            ("no keys", {"keys": []}, "no key"),
            ("only encryption keys", {"keys": [dict(good_ec, use="enc")]}, "no key"),
            ("no keys array", {"key": [good_ec]}, "keys"),
            ("not JSON", "{\"keys\": [", "cannot be loaded"),
            ("duplicate member", '{"keys": [], "keys": []}', "cannot be loaded"),
        ]
        token = self.mint("ES256")
        for label, content, why_part in cases:
            with self.subTest(label):
                path = self.write_jwks(f"bad-{abs(hash(label))}.json", content)
                code, out, err = self.run_driver(["--jwks", path, "--now", str(NOW)], [token])
                self.assertEqual(code, 2, f"{label}: loaded: {out} {err}")
                self.assertIn(path, err)
                self.assertIn(why_part, err)
        with self.subTest("missing file"):
            missing = os.path.join(self.tmp.name, "missing.json")
            code, _, err = self.run_driver(["--jwks", missing], [token])
            self.assertEqual(code, 2)
            self.assertIn(missing, err)
        with self.subTest("the failing key is named"):
            path = self.write_jwks("second-bad.json", {"keys": [
                good_ec, dict(good_ec, kid="bad-one", d="AAAA")]})
            code, _, err = self.run_driver(["--jwks", path], [token])
            self.assertEqual(code, 2)
            self.assertIn("keys[1]", err)
            self.assertIn("bad-one", err)


def b64url_pad(text):
    return text + "=" * (-len(text) % 4 or 4)


if __name__ == "__main__":
    _driver = harness.take_option("driver")
    harness.main()

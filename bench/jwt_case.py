"""Case AJ of bench/run: case A with a valid JWT on every request.

A third queryd runs the plain configuration plus an "auth" section (HS256,
the secret in QUERYD_JWT_SECRET, random for each run); an entry without
"roles" is served to every authenticated role.  TOKENS distinct tokens are
minted here with PyJWT (each its own "sub", role "bench", the configured
audience and issuer), one a line in a file that bench/wrk/requests.lua
(mode idauth) reads: every pre-drawn request carries one of them.  The
report compares AJ with A of the same rounds; AJ / A must reach BAR.
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

from baseline import ms, ratio, rps

SECRET_ENV = "QUERYD_JWT_SECRET"
AUTH = {"jwt": {"secret_env": SECRET_ENV, "audience": "queryd",
                "issuer": "https://id.example.com"}}
TOKENS = 64
LIFETIME_S = 6 * 3600
BAR = 0.9  # AJ must serve at least this share of A's requests/s
SYSTEM_PYTHON = "/usr/bin/python3"


class JwtCaseError(RuntimeError):
    pass


def has_pyjwt(python=None):
    """Whether PyJWT imports here (or in the interpreter `python`)."""
    if python is None:
        try:
            import jwt  # noqa: F401
            return True
        except ImportError:
            return False
    return subprocess.run([python, "-c", "import jwt"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def rerun_with_system_python(script, log):
    """python3-jwt (what scripts/deps installs) lives in the system python3's
    packages; when the python3 found first cannot import it and the system's
    can, `script` starts over under the system's, with the same arguments."""
    if has_pyjwt() or not os.path.exists(SYSTEM_PYTHON) or \
            os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON) or \
            not has_pyjwt(SYSTEM_PYTHON):
        return
    log("%s cannot import PyJWT (python3-jwt): running under %s" % (sys.executable,
                                                                     SYSTEM_PYTHON))
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(script)] + sys.argv[1:])


def require_pyjwt():
    if not has_pyjwt():
        raise JwtCaseError("case AJ mints its tokens with PyJWT, which %s cannot import: "
                           "install python3-jwt and run bench/run with the python3 that sees it"
                           % sys.executable)


def write_config(config, path):
    """The plain queryd's configuration file plus AUTH."""
    with open(config) as f:
        doc = json.load(f)
    doc["auth"] = AUTH
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def mint_tokens(path, secret):
    """TOKENS distinct HS256 tokens, also written one a line to `path` (0600)."""
    import jwt
    now = int(time.time())
    tokens = [jwt.encode({"sub": "bench-user-%02d" % i, "role": "bench",
                          "aud": AUTH["jwt"]["audience"], "iss": AUTH["jwt"]["issuer"],
                          "iat": now, "exp": now + LIFETIME_S}, secret, algorithm="HS256")
              for i in range(1, TOKENS + 1)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(t + "\n" for t in tokens))
    return tokens


def prepare(config, config_path, tokens_path):
    """A fresh secret, the "auth" configuration and the tokens signed with the
    secret: (the environment the AJ queryd adds to the others', tokens)."""
    require_pyjwt()
    secret = secrets.token_urlsafe(48)  # 64 characters, above HS256's 32 bytes
    tokens = mint_tokens(tokens_path, secret)
    return {"QUERYD_CONFIG": write_config(config, config_path), SECRET_ENV: secret}, tokens


def status_of(url, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def check(url, tokens):
    """Before any load: the AJ queryd refuses a request without a token (401:
    it does check them) and answers one with each token (200)."""
    anonymous = status_of(url + "/users/1")
    refused = [t for t in tokens if status_of(url + "/users/1", t) != 200]
    if anonymous != 401 or refused:
        raise JwtCaseError("queryd-auth: %d without a token (want 401), %d of %d tokens not "
                           "answered 200" % (anonymous, len(refused), len(tokens)))


# ---- report -------------------------------------------------------------------

def table(results, rounds, pick):
    """AJ against A of the same rounds: per round and the ratio of the means."""
    a = [pick(results, r, "A", "queryd") for r in rounds]
    aj = [pick(results, r, "AJ", "queryd") for r in rounds]
    lines = ["| round | A req/s | AJ req/s | **AJ / A** | p50 ms A / AJ | p99 ms A / AJ |",
             "|---|---:|---:|---:|---:|---:|"]
    for rnd, x, y in zip(rounds, a, aj):
        lines.append("| %d | %s | %s | **%.2f** | %s / %s | %s / %s |" % (
            rnd, rps(x["rps"]), rps(y["rps"]), ratio(y["rps"], x["rps"]),
            ms(x["p50_ms"]), ms(y["p50_ms"]), ms(x["p99_ms"]), ms(y["p99_ms"])))

    def mean(runs, key):
        return statistics.mean(r[key] for r in runs)
    means = ratio(mean(aj, "rps"), mean(a, "rps"))
    lines.append("| mean | %s | %s | **%.2f** (ratio of means; bar %.1f: %s) | %s / %s "
                 "| %s / %s |" % (
                     rps(mean(a, "rps")), rps(mean(aj, "rps")), means, BAR,
                     "met" if means >= BAR else "NOT met", ms(mean(a, "p50_ms")),
                     ms(mean(aj, "p50_ms")), ms(mean(a, "p99_ms")), ms(mean(aj, "p99_ms"))))
    return "\n".join(lines)


def setup_lines():
    return [
        "- AJ: a third queryd, the same configuration plus an \"auth\" section (`%s`, the "
        "HS256 secret in %s, random for each run); %d distinct tokens minted with PyJWT at "
        "start (each its own \"sub\", role \"bench\", the configured audience and issuer, "
        "expiring in %d h); each pre-drawn request carries one at random as "
        "`Authorization: Bearer`" % (json.dumps(AUTH), SECRET_ENV, TOKENS, LIFETIME_S // 3600)]


def section(auth_table, with_baseline):
    out = ["## AJ: a valid JWT on every request, against A\n",
           "The same requests as A, each with `Authorization: Bearer` and one of %d valid "
           "tokens, against the queryd with the \"auth\" section, back to back with A in every "
           "round (A first in odd rounds, AJ first in even ones). AJ / A is the share of A's "
           "requests/s left when every request's token is checked; the bar is %.1f. The ratio "
           "of every round shows the noise.\n" % (TOKENS, BAR),
           auth_table + "\n"]
    if with_baseline:
        out.append("AJ runs against the current build only: a baseline revision may refuse "
                   "the \"auth\" section it needs.\n")
    return out

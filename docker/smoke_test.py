#!/usr/bin/env python3
"""Smoke test of an installed queryd binary, set up the way docker-compose.yml
runs it: the demo data loaded from docker/initdb, the application user over
TCP, QUERYD_LISTEN given explicitly and the endpoints from docker/queryd.json
(the file the image installs as /etc/queryd/queryd.json). Needs no Docker
engine; the database is a private MariaDB in a temporary directory.

Usage: smoke_test.py /path/to/queryd
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts"))

from private_mariadb import PrivateMariaDB, _free_port  # noqa: E402

USER_1 = {
    "id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "age": 36,
    "balance": "1234.50", "active": True, "created_at": "2024-05-01T13:45:00",
    "bio": "First programmer; \"quotes\", \\backslash\\ and emoji \U0001F680 and 日本語",
    "visits": "9007199254740993", "score": 0.1, "birthday": "1815-12-10",
    "last_login": "2024-05-01T13:45:00.123+00:00", "avatar": "3q2+7w==",
    "prefs": {"theme": "dark", "langs": ["en", "fr"]},
}
USER_2 = {
    "id": 2, "name": "NULL Nobody", "email": "nobody@example.com", "age": None,
    "balance": "-0.01", "active": False, "created_at": "1970-01-01T00:00:00",
    "bio": None, "visits": "-9007199254740993", "score": None, "birthday": None,
    "last_login": None, "avatar": None, "prefs": None,
}


def get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="queryd-smoke-") as state:
        db = PrivateMariaDB(os.path.join(state, "mariadb"))
        proc = None
        try:
            db.start()
            db.create_app_user("queryd", "queryd-secret", "queryd")
            initdb = os.path.join(HERE, "initdb")
            db.load_files([os.path.join(initdb, n) for n in sorted(os.listdir(initdb))
                           if n.endswith(".sql")], "queryd")
            port = _free_port()
            env = dict(os.environ,
                       QUERYD_DATABASE_URL=db.tcp_url("queryd", "queryd-secret", "queryd"),
                       QUERYD_LISTEN="127.0.0.1:%d" % port,
                       QUERYD_CONFIG=os.path.join(HERE, "queryd.json"))
            proc = subprocess.Popen([binary], env=env)
            base = "http://127.0.0.1:%d" % port
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise AssertionError("queryd exited with %d" % proc.returncode)
                try:
                    status, _ = get(base, "/readyz")
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("/readyz not 200 within 30 s")
                time.sleep(0.1)
            for path, want in (("/users/1", USER_1), ("/users/2", USER_2)):
                status, body = get(base, path)
                got = json.loads(body)
                # As JSON text: "active" must be true/false, not 1/0.
                if status != 200 or json.dumps(got) != json.dumps(want):
                    raise AssertionError("GET %s -> %d %r, want %r" % (path, status, got, want))
            status, body = get(base, "/users/1/peers?limit=3")
            rows = json.loads(body).get("data") if status == 200 else None
            if not rows or len(rows) != 3 or list(rows[0]) != ["id", "name", "age"]:
                raise AssertionError("GET /users/1/peers?limit=3 -> %d %r" % (status, body[:300]))
            status, body = get(base, "/openapi.json")
            paths = json.loads(body).get("paths", {}) if status == 200 else {}
            if not {"/users", "/users/{id}", "/users/{id}/peers"} <= set(paths):
                raise AssertionError("GET /openapi.json -> %d, paths %s" % (status, sorted(paths)))
            status, body = get(base, "/users?limit=3000")
            rows = json.loads(body).get("data") if status == 200 else None
            if not rows or len(rows) != 3000:
                raise AssertionError("GET /users?limit=3000 -> %d, %s rows"
                                     % (status, len(rows) if rows else None))
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            proc = None
            if code != 0:
                raise AssertionError("queryd exited with %d after SIGTERM" % code)
        except AssertionError as e:
            print("smoke test failed: %s" % e, file=sys.stderr)
            return 1
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            db.stop()
    print("smoke test passed: %s" % binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

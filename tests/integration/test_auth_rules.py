"""Per-role rules on entries: columns, rows, and parameters from the claims.

One MariaDB with an orders table of two tenants, one queryd whose
configuration has an "auth" section.  Tokens are minted with PyJWT (HS256,
a secret made per run), API keys are random per run.  What must hold:

- "columns": a column the role may not see does not exist for it: not in
  rows, not filterable, not orderable, not selectable, not in its items,
  not in its /openapi.json;
- "rows": every statement of the entry carries the role's condition bound
  to the caller's claims: pages, counts, keyset cursors (a cursor made by
  one tenant walks only the other tenant's rows when the other uses it),
  items (another tenant's row is 404), coalesced lookups (400 concurrent
  lookups by two tenants: each answer only ever holds its own tenant's
  rows);
- named query parameters "from" the claims: filled from the identity, and a
  request that names them is refused;
- a role the entry does not list gets 403, the anonymous caller 401; an
  entry without "roles" serves every authenticated role, not the anonymous
  one; a claim that cannot be bound is 401.
"""

import hashlib
import json
import secrets
import time

import jwt

import harness
from harness import assert_problem

ORDERS = 240  # ids 1..240: even ids are tenant 1's, odd ids tenant 2's
SECRET = secrets.token_hex(32)
REPORT_KEY = "rk_" + secrets.token_urlsafe(24)


# The paths every caller's document lists, whatever its role.
BUILT_IN_PATHS = {"/", "/explorer.js", "/explorer.css", "/favicon.ico", "/healthz", "/readyz",
                  "/metrics", "/openapi.json"}


def tenant_of(order_id):
    return 1 if order_id % 2 == 0 else 2


def setup_sql():
    rows = ",".join(f"({i},{tenant_of(i)},'c{i % 7}','{'open' if i % 3 else 'paid'}',"
                    f"{i}.25,{'NULL' if i % 5 == 0 else repr('note ' + str(i))})"
                    for i in range(1, ORDERS + 1))
    return ("CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, tenant INT NOT NULL, "
            "customer VARCHAR(20) NOT NULL, status VARCHAR(10) NOT NULL, "
            "total DECIMAL(10,2) NOT NULL, note VARCHAR(50) NULL, KEY (tenant, id));"
            f"INSERT INTO orders VALUES {rows};")


CONFIG = {
    "auth": {
        "jwt": {"secret_env": "QUERYD_JWT_SECRET", "audience": "queryd",
                "issuer": "https://id.test"},
        "api_keys": [{"sha256": hashlib.sha256(REPORT_KEY.encode()).hexdigest(),
                      "role": "reporting", "claims": {"tenant": 2}}],
        "anonymous_role": "anon",
    },
    "resources": [
        {"path": "/orders", "table": "orders", "key": "id",
         "roles": {
             "anon": {"columns": ["id", "status"]},
             "customer": {"rows": "tenant = :claims.tenant"},
             "reporting": {"columns": ["id", "tenant", "total"],
                           "rows": "tenant = :claims.tenant AND status <> 'void'"},
             "admin": {},
         }},
        {"path": "/users", "table": "users", "key": "id", "columns": ["id", "name"]},
    ],
    "queries": [
        {"path": "/my/orders",
         "sql": "SELECT id, total FROM orders WHERE tenant = :tenant AND id <= :upto ORDER BY id",
         "params": {"tenant": {"type": "int", "from": "claims.tenant"},
                    "upto": {"type": "int", "default": 1000000}},
         "roles": {"customer": {}}},
    ],
}


def token(role, **claims):
    now = int(time.time())
    payload = {"role": role, "aud": "queryd", "iss": "https://id.test", "iat": now,
               "exp": now + 600, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


class AuthRulesTests(harness.DemoServiceTestCase):
    setup_sql = staticmethod(setup_sql)
    queryd_config = CONFIG
    queryd_env = {"QUERYD_JWT_SECRET": SECRET, "access_log": 1, "batch_lookups": 64,
                  "acquire_timeout_ms": 60000}
    pool_size = 2
    workers = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant1 = token("customer", sub="alice", tenant=1)
        cls.tenant2 = token("customer", sub="bob", tenant=2)
        cls.admin = token("admin", sub="root")
        cls.stranger = token("stranger", sub="eve", tenant=1)
        cls.queryd.secrets += [SECRET, REPORT_KEY, cls.tenant1, cls.tenant2, cls.admin,
                               cls.stranger]

    def orders_of(self, tenant):
        return [i for i in range(1, ORDERS + 1) if tenant_of(i) == tenant]

    def walk(self, path, headers):
        """Follows next links; returns every row."""
        rows, seen = [], 0
        while path is not None:
            resp = self.get(path, headers=headers)
            self.assertEqual(resp.status, 200, resp.describe())
            body = resp.json()
            rows += body["data"]
            path = body["next"]
            seen += 1
            self.assertLess(seen, 100, "the walk does not end")
        return rows

    # ------------------------------------------------------------ columns

    def test_anonymous_sees_only_its_columns(self):
        resp = self.get("/orders?limit=5")
        self.assertEqual(resp.status, 200, resp.describe())
        for row in resp.json()["data"]:
            self.assertEqual(sorted(row), ["id", "status"])
        item = self.get("/orders/4")
        self.assertEqual(item.status, 200, item.describe())
        self.assertEqual(item.json(), {"id": 4, "status": "open"})

    def test_hidden_columns_do_not_exist(self):
        for query in ("total=gt.5", "order=total.desc", "select=id,total", "tenant=eq.1"):
            with self.subTest(query=query):
                resp = self.get(f"/orders?{query}")
                assert_problem(self, resp, 400, "invalid-parameter")
        resp = self.get("/orders/4?select=total")
        assert_problem(self, resp, 400, "invalid-parameter")

    def test_api_key_role_sees_its_columns_and_rows(self):
        headers = {"X-API-Key": REPORT_KEY}
        rows = self.walk("/orders?limit=50&order=total.desc", headers)
        self.assertEqual(sorted(r["id"] for r in rows), self.orders_of(2))
        for row in rows:
            self.assertEqual(sorted(row), ["id", "tenant", "total"])
            self.assertEqual(row["tenant"], 2)
        assert_problem(self, self.get("/orders?note=is.null", headers=headers), 400,
                       "invalid-parameter")

    # --------------------------------------------------------------- rows

    def test_collections_and_counts_hold_only_the_tenants_rows(self):
        for tok, tenant in ((self.tenant1, 1), (self.tenant2, 2)):
            with self.subTest(tenant=tenant):
                resp = self.get("/orders?limit=1000&count=exact", headers=bearer(tok))
                self.assertEqual(resp.status, 200, resp.describe())
                body = resp.json()
                self.assertEqual([r["id"] for r in body["data"]], self.orders_of(tenant))
                self.assertEqual(int(body["count"]), len(self.orders_of(tenant)))
                self.assertTrue(all(r["tenant"] == tenant for r in body["data"]))
                # A filter narrows within the tenant's rows, never beyond them.
                resp = self.get("/orders?id=lt.20&count=exact", headers=bearer(tok))
                ids = [r["id"] for r in resp.json()["data"]]
                self.assertEqual(ids, [i for i in self.orders_of(tenant) if i < 20])
                self.assertEqual(int(resp.json()["count"]), len(ids))

    def test_keyset_walks_stay_within_the_tenant(self):
        for order in ("", "&order=total.desc", "&order=customer,id.desc"):
            with self.subTest(order=order):
                rows = self.walk(f"/orders?limit=7{order}", bearer(self.tenant1))
                self.assertEqual(sorted(r["id"] for r in rows), self.orders_of(1))

    def test_a_cursor_is_useless_to_another_tenant(self):
        first = self.get("/orders?limit=10&order=total.desc", headers=bearer(self.tenant1))
        next_link = first.json()["next"]
        self.assertIsNotNone(next_link)
        resp = self.get(next_link, headers=bearer(self.tenant2))
        self.assertEqual(resp.status, 200, resp.describe())
        ids = [r["id"] for r in resp.json()["data"]]
        self.assertTrue(ids, "the other tenant's walk goes on over its own rows")
        self.assertTrue(all(tenant_of(i) == 2 for i in ids), ids)

    def test_items_of_another_tenant_are_not_found(self):
        own = self.get("/orders/10", headers=bearer(self.tenant1))
        self.assertEqual(own.status, 200, own.describe())
        self.assertEqual(own.json()["tenant"], 1)
        other = self.get("/orders/11", headers=bearer(self.tenant1))
        assert_problem(self, other, 404, "not-found")
        selected = self.get("/orders/11?select=id", headers=bearer(self.tenant1))
        assert_problem(self, selected, 404, "not-found")
        self.assertEqual(self.get("/orders/11?select=id", headers=bearer(self.tenant2)).json(),
                         {"id": 11})
        # A role with no row rule sees every row.
        self.assertEqual(self.get("/orders/11", headers=bearer(self.admin)).status, 200)

    def test_coalesced_lookups_never_mix_tenants(self):
        def statements():
            return harness.metric(self.queryd, "queryd_lookup_statements_total")

        before = statements()
        jobs, expected = [], []
        for n in range(400):
            order_id = 1 + (n * 7) % ORDERS
            tenant = 1 if n % 2 == 0 else 2
            tok = self.tenant1 if tenant == 1 else self.tenant2
            jobs.append(("GET", f"/orders/{order_id}", bearer(tok)))
            expected.append(order_id if tenant_of(order_id) == tenant else None)
        # The lock holds the first statements, so the lookups pile up in batches.
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 3, table="orders")
        try:
            results = harness.fire_concurrently(self.port, jobs, timeout=120)
        finally:
            lock.release()
        for (job, resp), want in zip(results, expected):
            self.assertNotIsInstance(resp, Exception, f"{job[1]}: {resp!r}")
            if want is None:
                self.assertEqual(resp.status, 404, f"{job[1]}: {resp.describe()}")
            else:
                self.assertEqual(resp.status, 200, f"{job[1]}: {resp.describe()}")
                self.assertEqual(resp.json()["id"], want)
                self.assertEqual(resp.json()["tenant"], tenant_of(want))
        # Two tenants never share a statement, but each tenant's lookups do.
        self.assertLess(statements() - before, 100, "the lookups were hardly coalesced")

    # ----------------------------------------------------- named queries

    def test_parameters_from_the_claims(self):
        resp = self.get("/my/orders?upto=30", headers=bearer(self.tenant2))
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual([r["id"] for r in resp.json()["data"]],
                         [i for i in self.orders_of(2) if i <= 30])
        tried = self.get("/my/orders?tenant=1", headers=bearer(self.tenant2))
        assert_problem(self, tried, 400, "invalid-parameter")
        self.assertIn("credentials", tried.json()["detail"])

    def test_a_claim_that_cannot_be_bound_is_refused(self):
        for claim in ({"a": 1}, [1, 2], None, "one"):
            with self.subTest(claim=claim):
                tok = token("customer", sub="odd", tenant=claim)
                self.queryd.secrets.append(tok)
                resp = self.get("/my/orders", headers=bearer(tok))
                assert_problem(self, resp, 401, "unauthorized")
                self.assertIn('error="invalid_token"', resp.headers.get("WWW-Authenticate", ""))
        tok = token("customer", sub="nobody")  # no tenant claim at all
        self.queryd.secrets.append(tok)
        assert_problem(self, self.get("/orders", headers=bearer(tok)), 401, "unauthorized")

    # ------------------------------------------------------------ who may

    def test_roles_the_entry_does_not_list(self):
        assert_problem(self, self.get("/orders", headers=bearer(self.stranger)), 403, "forbidden")
        assert_problem(self, self.get("/my/orders", headers=bearer(self.admin)), 403, "forbidden")
        resp = self.get("/my/orders")
        assert_problem(self, resp, 401, "unauthorized")
        self.assertEqual(resp.headers.get("WWW-Authenticate"), 'Bearer realm="queryd"')

    def test_an_entry_without_roles_serves_authenticated_roles_only(self):
        self.assertEqual(self.get("/users/1", headers=bearer(self.stranger)).status, 200)
        self.assertEqual(self.get("/users/1", headers={"X-API-Key": REPORT_KEY}).status, 200)
        assert_problem(self, self.get("/users/1"), 401, "unauthorized")

    def test_without_db_roles_no_set_role_is_sent(self):
        # No role names a db_role: sessions keep the account's own role.
        for tok in (self.tenant1, self.admin):
            self.assertEqual(self.get("/orders?limit=3", headers=bearer(tok)).status, 200)
        self.assertEqual(self.get("/orders?limit=3").status, 200)
        self.assertEqual(harness.metric(self.queryd, "queryd_db_role_switches_total"), 0)

    def test_answers_that_depend_on_the_caller_are_private(self):
        for headers in ({}, bearer(self.tenant1), {"X-API-Key": REPORT_KEY}):
            for path in ("/orders?limit=2", "/orders/4", "/openapi.json", "/users/1"):
                with self.subTest(path=path, headers=sorted(headers)):
                    resp = self.get(path, headers=headers)
                    self.assertEqual(resp.headers.get("Cache-Control"), "private",
                                     resp.describe())
                    vary = {v.strip() for v in resp.headers.get("Vary", "").split(",")}
                    self.assertLessEqual({"Authorization", "X-API-Key"}, vary, resp.describe())

    # ---------------------------------------------------------- openapi

    def document(self, headers=None):
        resp = self.get("/openapi.json", headers=headers or {})
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()

    def test_each_role_reads_its_own_document(self):
        anon = self.document()
        self.assertEqual(set(anon["paths"]) - BUILT_IN_PATHS, {"/orders", "/orders/{id}"})
        self.assertEqual(sorted(anon["components"]["schemas"]["Orders"]["properties"]),
                         ["id", "status"])
        customer = self.document(bearer(self.tenant1))
        self.assertLessEqual({"/orders", "/orders/{id}", "/users", "/users/{id}", "/my/orders"},
                             set(customer["paths"]))
        self.assertEqual(sorted(customer["components"]["schemas"]["Orders"]["properties"]),
                         ["customer", "id", "note", "status", "tenant", "total"])
        names = [p["name"] for p in customer["paths"]["/my/orders"].get("parameters", [])]
        self.assertEqual(names, ["upto"], "a parameter from the claims is not the caller's to give")
        reporting = self.document({"X-API-Key": REPORT_KEY})
        self.assertNotIn("/my/orders", reporting["paths"])
        self.assertEqual(sorted(reporting["components"]["schemas"]["Orders"]["properties"]),
                         ["id", "tenant", "total"])

    def test_the_document_declares_security_and_its_answers(self):
        doc = self.document(bearer(self.admin))
        schemes = doc["components"]["securitySchemes"]
        self.assertEqual(schemes["bearer"], {"type": "http", "scheme": "bearer",
                                             "bearerFormat": "JWT"})
        self.assertEqual(schemes["apiKey"], {"type": "apiKey", "in": "header",
                                             "name": "X-API-Key"})
        self.assertIn({}, doc["security"], "the anonymous role may call without credentials")
        responses = doc["paths"]["/orders"]["get"]["responses"]
        for status in ("401", "403", "429"):
            self.assertIn(status, responses)
        self.assertIn("WWW-Authenticate",
                      doc["components"]["responses"]["Unauthorized"]["headers"])

    def test_access_log_names_role_and_subject(self):
        offset = self.queryd.log_size()
        self.get("/orders/10", headers=bearer(self.tenant1))
        self.get("/orders/10", headers={"X-API-Key": REPORT_KEY})
        self.get("/orders/10")
        key_name = "key:" + hashlib.sha256(REPORT_KEY.encode()).hexdigest()[:12]

        def logged():
            lines = [json.loads(line) for line in self.queryd.log_since(offset).splitlines()
                     if line.startswith("{") and '"/orders/10"' in line]
            return lines if len(lines) >= 3 else None

        lines = harness.wait_until(logged, timeout=10)
        self.assertEqual([(line["role"], line["subject"]) for line in lines[:3]],
                         [("customer", "alice"), ("reporting", key_name), ("anon", None)])


if __name__ == "__main__":
    harness.main()

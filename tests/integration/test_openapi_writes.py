"""The OpenAPI document of a configuration that writes: it passes the Redocly
lint, and every answer of every write method (successes, refusals, errors)
is one the document declares, with its headers and body schema.
"""

import json
import shutil
import subprocess
import tempfile

import harness
from harness import REPO_ROOT
from test_openapi import LINT_SCRIPT, Spec, check_response
from test_writes import CONFIG, SETUP_SQL


class OpenAPIWriteTests(harness.DemoServiceTestCase):
    queryd_config = CONFIG
    setup_sql = SETUP_SQL

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        resp = cls.queryd.get("/openapi.json")
        assert resp.status == 200, resp.describe()
        cls.doc = resp.json()
        cls.spec = Spec(cls.doc)

    def setUp(self):
        self.db.execute("DELETE FROM items; DELETE FROM pairs;", database=harness.DEMO_DB)

    def check(self, method, path, status, doc=None, headers=None,
              content_type="application/json"):
        body = None if doc is None else doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        hdrs = {"Content-Type": content_type} if body is not None else {}
        hdrs.update(headers or {})
        resp = self.request(method, path, body=body, headers=hdrs)
        self.assertEqual(resp.status, status, f"{method} {path}: {resp.describe()}")
        check_response(self, self.spec, method, path, resp)
        return resp

    def test_operations_are_documented(self):
        paths = self.doc["paths"]
        self.assertEqual({m for m in paths["/items"] if m in ("get", "post", "patch", "delete")},
                         {"get", "post", "patch", "delete"})
        self.assertEqual({m for m in paths["/items/{id}"] if m in ("get", "put", "patch", "delete")},
                         {"get", "put", "patch", "delete"})
        self.assertEqual(set(paths["/teams"]["post"]["responses"]), {"405"})
        post = paths["/items"]["post"]
        self.assertEqual(set(self.spec.deref(post["requestBody"])["content"]),
                         {"application/json", "application/x-ndjson", "text/csv"})
        names = {self.spec.deref(p)["name"] for p in post.get("parameters", [])}
        self.assertIn("Prefer", names)

    def test_document_lints(self):
        installed = (REPO_ROOT / ".state" / "node_modules" / ".bin" / "redocly").exists()
        if not installed and shutil.which("npm") is None:
            self.skipTest("Redocly CLI is not installed and npm is not available")
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/openapi.json"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.doc, f, indent=2)
            proc = subprocess.run(["bash", str(LINT_SCRIPT), path], capture_output=True,
                                  text=True, timeout=280)
        self.assertEqual(proc.returncode, 0,
                         f"redocly lint failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")

    def test_post_answers(self):
        self.check("POST", "/items", 201, {"id": 1, "name": "a"})
        self.check("POST", "/items", 201, [{"name": "b"}, {"name": "c"}],
                   headers={"Prefer": "return=representation"})
        self.check("POST", "/items", 201, {"name": "d"}, headers={"Prefer": "return=representation"})
        self.check("POST", "/items", 201, b'{"name": "e"}\n', content_type="application/x-ndjson")
        self.check("POST", "/items", 201, b"name\nf\n", content_type="text/csv")
        self.check("POST", "/items", 400, {"name": "x", "nope": 1})
        self.check("POST", "/items", 409, {"id": 1, "name": "again"})
        self.check("POST", "/items", 422, {"name": "x", "qty": -1})
        self.check("POST", "/items", 415, b"a=b", content_type="application/x-www-form-urlencoded")
        self.check("POST", "/teams", 405, {"id": 5, "name": "x"})

    def test_change_answers(self):
        self.check("POST", "/items", 201, [{"id": i, "name": f"n{i}"} for i in range(1, 6)])
        self.check("PUT", "/pairs/1/a", 201, {"v": 1})
        self.check("PUT", "/pairs/1/a", 204, {"v": 2})
        self.check("PUT", "/pairs/1/a", 200, {"v": 3}, headers={"Prefer": "return=representation"})
        self.check("PUT", "/pairs/1/a", 400, {})
        self.check("PATCH", "/items/1", 204, {"qty": 1})
        self.check("PATCH", "/items/1", 200, {"qty": 2}, headers={"Prefer": "return=representation"})
        self.check("PATCH", "/items/99", 404, {"qty": 1})
        self.check("PATCH", "/items?id=lt.3", 200, {"qty": 3},
                   headers={"Prefer": "return=representation"})
        self.check("PATCH", "/items?id=lt.3", 204, {"qty": 4})
        self.check("PATCH", "/items", 400, {"qty": 1})
        self.check("PATCH", "/items?id=gt.0", 400, {"qty": 1}, headers={"Prefer": "max-affected=2"})
        self.check("DELETE", "/items/5", 204)
        self.check("DELETE", "/items/5", 404)
        self.check("DELETE", "/items?id=eq.4", 200, headers={"Prefer": "return=representation"})
        self.check("DELETE", "/items?id=gt.0", 204)
        self.check("DELETE", "/items", 400)


if __name__ == "__main__":
    harness.main()

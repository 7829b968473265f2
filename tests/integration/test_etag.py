"""Strong ETags and If-None-Match on whole answers.

A whole 200 answer to GET or HEAD carries a strong ETag, the SHA-256 of the
bytes sent: equal for equal answers, different per content coding (a -zstd
or -gzip suffix) and after the data change.  If-None-Match with a matching
tag (also weak, in a list, or *) gets 304 without a body but with ETag, Vary,
Cache-Control and X-Request-Id (and the Content-Length the 200 would have
had, never 0); another tag gets the 200.  Streamed answers
and errors carry no ETag.
"""

import hashlib

import harness


def tokens(resp, name):
    return {t.strip().lower() for t in (resp.headers.get(name) or "").split(",") if t.strip()}


class EtagTests(harness.DemoServiceTestCase):
    queryd_env = {"QUERYD_COMPRESSION": "zstd:3,gzip:6"}

    def fetch(self, path, method="GET", **headers):
        return self.request(method, path, headers={k.replace("_", "-"): v
                                                   for k, v in headers.items()})

    def test_etag_is_the_digest_of_the_body(self):
        resp = self.fetch("/users/1", Accept_Encoding="identity")
        self.assertEqual(resp.status, 200)
        digest = hashlib.sha256(resp.body).hexdigest()[:32]
        self.assertEqual(resp.headers.get("ETag"), f'"{digest}"')
        again = self.fetch("/users/1", Accept_Encoding="identity")
        self.assertEqual(again.headers.get("ETag"), resp.headers.get("ETag"))

    def test_etag_differs_per_coding(self):
        tags = {}
        for coding in ("identity", "zstd", "gzip"):
            resp = self.fetch("/users?limit=100", Accept_Encoding=coding)
            self.assertEqual(resp.status, 200)
            tag = resp.headers.get("ETag")
            digest = hashlib.sha256(resp.body).hexdigest()[:32]
            suffix = "" if coding == "identity" else f"-{coding}"
            self.assertEqual(tag, f'"{digest}{suffix}"')
            tags[coding] = tag
        self.assertEqual(len(set(tags.values())), 3, tags)

    def test_etag_changes_with_the_data(self):
        before = self.fetch("/users/2").headers.get("ETag")
        self.db.execute("UPDATE users SET age = 77 WHERE id = 2", harness.DEMO_DB)
        try:
            after = self.fetch("/users/2")
            self.assertEqual(after.json()["age"], 77)
            self.assertNotEqual(after.headers.get("ETag"), before)
            resp = self.fetch("/users/2", If_None_Match=before)
            self.assertEqual(resp.status, 200)
        finally:
            self.db.execute("UPDATE users SET age = NULL WHERE id = 2", harness.DEMO_DB)
        self.assertEqual(self.fetch("/users/2").headers.get("ETag"), before)

    def assert_not_modified(self, resp, full):
        """A 304 for the 200 answer full: no body, and a length only if it is full's."""
        tag = full.headers.get("ETag")
        self.assertEqual(resp.status, 304, resp.describe())
        self.assertEqual(resp.body, b"")
        self.assertEqual(resp.headers.get("ETag"), tag)
        self.assertIn("accept-encoding", tokens(resp, "Vary"))
        self.assertIsNotNone(resp.headers.get("X-Request-Id"))
        self.assertIsNone(resp.headers.get("Content-Encoding"))
        self.assertIn(resp.headers.get("Content-Length"),
                      (None, full.headers.get("Content-Length")), dict(resp.headers))
        self.assertIsNone(resp.headers.get("Content-Type"))

    def test_if_none_match_answers_304(self):
        for coding in ("identity", "gzip"):
            with self.subTest(coding=coding):
                path = "/users?limit=100"
                first = self.fetch(path, Accept_Encoding=coding)
                tag = first.headers.get("ETag")
                weak = "W/" + tag
                for value in (tag, "*", f'"nope", {tag}', weak, f'"x",  {weak} , "y"'):
                    with self.subTest(if_none_match=value):
                        resp = self.fetch(path, Accept_Encoding=coding, If_None_Match=value)
                        self.assert_not_modified(resp, first)
                resp = self.fetch(path, Accept_Encoding=coding, If_None_Match='"other"')
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, first.body)

    def test_304_keeps_cache_control(self):
        """Authenticated answers are private; the 304 says so too."""
        # The demo service has no credentials: Cache-Control is absent on both.
        first = self.fetch("/users/1")
        resp = self.fetch("/users/1", If_None_Match=first.headers.get("ETag"))
        self.assertEqual(resp.status, 304)
        self.assertEqual(resp.headers.get("Cache-Control"), first.headers.get("Cache-Control"))

    def test_other_coding_tag_does_not_match(self):
        gz = self.fetch("/users?limit=100", Accept_Encoding="gzip").headers.get("ETag")
        resp = self.fetch("/users?limit=100", Accept_Encoding="zstd", If_None_Match=gz)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers.get("Content-Encoding"), "zstd")

    def test_head(self):
        get = self.fetch("/users/1")
        head = self.fetch("/users/1", method="HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.headers.get("ETag"), get.headers.get("ETag"))
        resp = self.fetch("/users/1", method="HEAD", If_None_Match=get.headers.get("ETag"))
        self.assert_not_modified(resp, get)

    def test_no_etag_on_errors_and_streams(self):
        resp = self.fetch("/users/999999")
        self.assertEqual(resp.status, 404)
        self.assertIsNone(resp.headers.get("ETag"))
        resp = self.fetch("/users/999999", If_None_Match="*")
        self.assertEqual(resp.status, 404)


if __name__ == "__main__":
    harness.main()

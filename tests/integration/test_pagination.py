"""Walk the whole demo table page by page, by cursor and by offset.

/users keeps its default order (the key, id), whose cursor is the id itself,
so `after=<id>` links are checked as such.

Every id 1..3000 must come back exactly once and in order, each page must
hold at most `limit` rows (every page but the last exactly `limit`), and the
walk must end on a page whose next is null.
"""


import harness
from harness import assert_json_ok, parse_next


class PaginationTests(harness.DemoServiceTestCase):

    def walk(self, first, limit, mode):
        """Follow next links from first; returns (pages, rows)."""
        max_pages = harness.DEMO_ROW_COUNT // min(limit, 10000) + 3
        path = first
        pages = []
        rows = []
        while path is not None:
            self.assertLessEqual(len(pages), max_pages, f"more than {max_pages} pages")
            page = assert_json_ok(self, self.get(path, timeout=60))
            self.assertEqual(set(page), {"data", "next"}, path)
            effective = min(limit, 10000)
            self.assertLessEqual(len(page["data"]), effective, path)
            pages.append((path, page))
            rows.extend(page["data"])
            nxt = page["next"]
            if nxt is not None:
                self.assertEqual(len(page["data"]), effective,
                                 f"{path}: a page short of the limit must be the last "
                                 f"(next was {nxt!r})")
                link_path, params = parse_next(nxt)
                self.assertEqual(link_path, "/users", nxt)
                if "limit=" not in first and "limit" not in params:
                    # A request without limit may get links without one
                    # (the default applies again).
                    params["limit"] = [str(effective)]
                self.assertEqual(params.get("limit"), [str(effective)], nxt)
                if mode == "after":
                    self.assertEqual(set(params), {"limit", "after"}, nxt)
                    self.assertEqual(params["after"], [str(page["data"][-1]["id"])], nxt)
                else:
                    self.assertEqual(set(params), {"limit", "offset"}, nxt)
                    self.assertEqual(params["offset"], [str(len(rows))], nxt)
            path = nxt
        return pages, rows

    def check_walk(self, first, limit, mode):
        pages, rows = self.walk(first, limit, mode)
        ids = [row["id"] for row in rows]
        self.assertEqual(ids, list(range(1, harness.DEMO_ROW_COUNT + 1)),
                         f"{mode} walk with limit {limit} did not return 1..3000 once, in order")
        harness.assert_same_json(self, rows[0], harness.USER_1)
        harness.assert_same_json(self, rows[1], harness.USER_2)
        for row in rows:
            self.assertEqual(list(row), harness.DEMO_COLUMNS, row.get("id"))
        return pages, rows

    def test_after_walk_limit_7(self):
        self.check_walk("/users?limit=7", 7, "after")

    def test_after_walk_limit_100(self):
        self.check_walk("/users?limit=100", 100, "after")

    def test_after_walk_default_limit(self):
        self.check_walk("/users", 100, "after")

    def test_after_walk_limit_10000(self):
        pages, _ = self.check_walk("/users?limit=10000", 10000, "after")
        self.assertEqual(len(pages), 1)

    def test_offset_walk_limit_7(self):
        self.check_walk("/users?limit=7&offset=0", 7, "offset")

    def test_offset_walk_limit_100(self):
        self.check_walk("/users?limit=100&offset=0", 100, "offset")

    def test_offset_walk_limit_10000(self):
        pages, _ = self.check_walk("/users?limit=10000&offset=0", 10000, "offset")
        self.assertEqual(len(pages), 1)

    def test_pages_agree_with_single_rows(self):
        _, rows = self.walk("/users?limit=1000", 1000, "after")
        by_id = {row["id"]: row for row in rows}
        for user_id in (1, 2, 3, 7, 42, 999, 1000, 1001, 1500, 2999, 3000):
            with self.subTest(id=user_id):
                single = assert_json_ok(self, self.get(f"/users/{user_id}"))
                harness.assert_same_json(self, single, by_id[user_id])

    def test_keyset_and_offset_pages_agree(self):
        _, by_cursor = self.walk("/users?limit=250", 250, "after")
        _, by_offset = self.walk("/users?limit=250&offset=0", 250, "offset")
        self.assertEqual(by_cursor, by_offset)

    def test_full_last_page_has_null_next(self):
        # The contract: next is null on the last page.  When the rows run out
        # exactly at a page boundary the page holding id 3000 is the last
        # one, so it must not point at an empty page.
        for path in ("/users?limit=100&after=2900", "/users?limit=100&offset=2900",
                     "/users?limit=3000", "/users?limit=1&after=2999"):
            with self.subTest(path=path):
                page = assert_json_ok(self, self.get(path, timeout=60))
                self.assertEqual(page["data"][-1]["id"], 3000)
                self.assertIsNone(page["next"], f"{path} returned the last row but next is "
                                  f"{page['next']!r}")

    def test_walk_ends_without_an_empty_page(self):
        for first, limit, mode in (("/users?limit=100", 100, "after"),
                                   ("/users?limit=1000&offset=0", 1000, "offset")):
            with self.subTest(first=first):
                pages, _ = self.walk(first, limit, mode)
                self.assertEqual(len(pages), harness.DEMO_ROW_COUNT // limit,
                                 "walk needed an extra, empty page to find the end")
                self.assertTrue(pages[-1][1]["data"])

    def test_pool_idle_after_walks(self):
        self.walk("/users?limit=1000", 1000, "after")
        self.walk("/users?limit=1000&offset=0", 1000, "offset")
        resp = self.queryd.wait_pool_idle(self.pool_size)
        self.assertEqual(resp.json()["pool"], {"size": self.pool_size, "idle": self.pool_size,
                                               "busy": 0, "waiting": 0})


if __name__ == "__main__":
    harness.main()

"""The explorer page (GET / in a browser), driven by a headless Chromium.

One Chromium (through chromedriver and Selenium) serves the whole class.  The
page is only ever compared with queryd's own answers: every table the page
shows must hold exactly the rows the API gives for the query string in the
page's hash, fetched here over plain HTTP.  After every test the browser's
console must hold no error and every request the page made must have gone to
this queryd (or be a blob:/data: URL of its own).  The credential tests start
a second queryd with an "auth" section and compare with its answers as the
same credential gets them.

Needs the Debian packages chromium, chromium-driver and python3-selenium
(scripts/deps installs them).  Without them this program fails: it never
skips.  The screenshot of the users table is written to the run directory and
to --artifacts DIR (CTest passes <build dir>/artifacts).
"""

import hashlib
import json
import os
import secrets
import shutil
import signal
import sys
import time
import urllib.parse
from pathlib import Path

import harness
import jwt
from harness import assert_same_json, json_text

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as exc:
    sys.exit(f"test_explorer_browser: Selenium is missing ({exc}); "
             "scripts/deps installs python3-selenium, chromium and chromium-driver")

ARTIFACTS = harness.take_option("artifacts")

# CI shares two cores with the database and the sanitized queryd.
WAIT = 60
WINDOW = (1366, 900)

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1;alert(1)">'
HOSTILE_EMAIL = '"><script>window.__pwned=2;alert(2)</script>@example.com'
HOSTILE_BIO = ('</td></tr><tr><td data-column="id">666</td></tr>'
               '<b>&amp; &lt;i&gt;</b><svg onload="window.__pwned=3">')
HOSTILE_PREFS = {"html": '<img src=x onerror="window.__pwned=4">', "n": [1, 2]}

# The second queryd's identities: per run, never printed (its check_log looks).
AUTH_SECRET = secrets.token_hex(32)
AUTH_AUDIENCE = "queryd-explorer"
AUTH_ISSUER = "https://id.example.test"
READER_KEY = "rk_" + secrets.token_urlsafe(24)


def auth_config():
    """The demo configuration with an "auth" section: anonymous callers see
    /users' id and name; the "reader" role sees every column and the peers query."""
    config = harness.demo_config()
    config["auth"] = {
        "jwt": {"secret_env": "QUERYD_JWT_SECRET", "audience": AUTH_AUDIENCE,
                "issuer": AUTH_ISSUER},
        "api_keys": [{"sha256": hashlib.sha256(READER_KEY.encode()).hexdigest(),
                      "role": "reader"}],
        "anonymous_role": "anon",
    }
    by_path = {e["path"]: e for e in config["resources"] + config["queries"]}
    by_path["/users"]["roles"] = {"anon": {"columns": ["id", "name"]}, "reader": {}}
    by_path["/users/{id}/peers"]["roles"] = {"reader": {}}
    return config


def reader_token():
    now = int(time.time())
    return jwt.encode({"role": "reader", "sub": "rita", "aud": AUTH_AUDIENCE,
                       "iss": AUTH_ISSUER, "iat": now, "exp": now + 900},
                      AUTH_SECRET, algorithm="HS256")



def setup_sql():
    # Ids above the demo's 3000: a row of markup, and a row whose bio is the
    # empty string and whose avatar is zero bytes.
    return (
        "INSERT INTO users (id, name, email, age, balance, active, created_at, bio, visits, "
        "score, birthday, last_login, avatar, prefs) VALUES "
        f"(3001, {harness.sql_text(HOSTILE_NAME)}, {harness.sql_text(HOSTILE_EMAIL)}, 41, 1.00, "
        f"TRUE, '2024-01-02 03:04:05', {harness.sql_text(HOSTILE_BIO)}, 7, 2.5, '2000-02-29', "
        f"NULL, NULL, {harness.sql_text(json.dumps(HOSTILE_PREFS))}), "
        "(3002, 'Empty Bio', 'empty-bio@example.com', NULL, 0.00, FALSE, "
        "'2024-01-02 03:04:05', '', 0, NULL, NULL, NULL, X'', NULL);")


# What the page shows, read in one round trip.
READ_STATE = """
const visible = el => !!el && !el.hidden && getComputedStyle(el).display !== 'none';
const status = document.getElementById('status');
const problem = document.getElementById('problem');
const table = document.querySelector('table#rows');
return {
  hash: location.hash,
  status: status ? status.textContent.trim() : null,
  table: !!table && visible(table),
  rows: table ? table.querySelectorAll('tbody tr').length : 0,
  stale: document.querySelectorAll('table#rows tbody tr[data-test-stale]').length,
  columns: table ? [...table.querySelectorAll('thead tr:not(#filters) th[data-column]')]
                     .map(th => th.dataset.column) : [],
  problem: visible(problem),
  problemText: problem ? problem.textContent : null,
};
"""

READ_TABLE = """
const table = document.querySelector('table#rows');
return [...table.querySelectorAll('tbody tr')].map(tr =>
  [...tr.querySelectorAll('td[data-column]')].map(td => {
    const pre = td.querySelector('pre');
    return {column: td.dataset.column, text: td.textContent,
            isNull: td.hasAttribute('data-null'), binary: td.hasAttribute('data-binary'),
            pre: pre ? pre.textContent : null, elements: td.querySelectorAll('*').length};
  }));
"""


def hash_parts(location_hash):
    """'#/users?order=age.asc' -> ('/users', 'order=age.asc')."""
    path, _, query = location_hash.lstrip("#").partition("?")
    return path, query


def with_query(path, query):
    return f"{path}?{query}" if query else path


def binary_columns(node):
    """Names of the properties the OpenAPI document marks contentEncoding base64."""
    found = set()
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and prop.get("contentEncoding") == "base64":
                found.add(name)
        for child in node.values():
            found |= binary_columns(child)
    elif isinstance(node, list):
        for child in node:
            found |= binary_columns(child)
    return found


def start_chromium(run_dir, killers):
    """A headless Chromium whose profile and downloads live under run_dir.

    Returns (driver, downloads directory).  Appends to killers a callable that
    SIGKILLs chromedriver and the browser it started, for the harness's
    watchdog; it is there before the browser starts.
    """
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    for program in (chromedriver, chromium):
        if not os.access(program, os.X_OK):
            raise AssertionError(f"{program} is missing: scripts/deps installs chromium and "
                                 "chromium-driver")
    downloads = run_dir / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    args = ["--headless=new", "--disable-gpu", f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--user-data-dir={run_dir / 'chromium-profile'}", "--force-device-scale-factor=1",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--lang=en-US"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    for arg in args:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "safebrowsing.enabled": False,
        # The page saves a file after its fetch, not within the click itself.
        "profile.default_content_setting_values.automatic_downloads": 1,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # Leave any alert open so the test can see it instead of chromedriver
    # dismissing it.
    options.set_capability("unhandledPromptBehavior", "ignore")
    # chromedriver leads a process group of its own, with the browser it starts,
    # so both can be killed at once.
    service = Service(executable_path=chromedriver, log_path=str(run_dir / "chromedriver.log"),
                      popen_kw={"start_new_session": True})

    def killer():
        proc = getattr(service, "process", None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    killers.append(killer)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(WAIT)
        driver.set_script_timeout(WAIT)
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
    except BaseException:
        driver.quit()
        raise
    return driver, downloads


class ExplorerBrowserTests(harness.DemoServiceTestCase):
    setup_sql = staticmethod(setup_sql)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = f"http://127.0.0.1:{cls.port}"
        cls.binary = binary_columns(harness.http_request(cls.port, "GET", "/openapi.json").json())
        if "avatar" not in cls.binary:
            raise AssertionError(f"openapi.json marks no avatar as base64: {cls.binary}")
        cls.addClassCleanup(shutil.rmtree, cls.fixture.dir / "chromium-profile",
                            ignore_errors=True)
        cls.driver, cls.downloads = start_chromium(cls.fixture.dir, cls.fixture.killers)
        cls.addClassCleanup(cls.quit_browser)

    @classmethod
    def quit_browser(cls):
        try:
            cls.driver.quit()
        finally:
            for kill in cls.fixture.killers:
                kill()

    def setUp(self):
        super().setUp()
        # Start from a clean slate of logs: they are checked in tearDown.
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        self.allowed_console = []
        self.bases = [self.base]
        self.network_log = []

    def tearDown(self):
        try:
            self.check_browser_logs()
            if getattr(type(self), "auth", None) is not None:
                type(self).auth.check_log(self)
        finally:
            super().tearDown()

    def network(self):
        """Every network event of this test so far (the log is read only once)."""
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"].startswith("Network."):
                self.network_log.append(msg)
        return self.network_log

    # -- the browser's logs

    def check_browser_logs(self):
        errors = [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"
                  and not any(a in e["message"] for a in self.allowed_console)]
        self.assertEqual(errors, [], "console errors")
        outside, blocked, seen = [], [], 0
        ours = tuple(b + "/" for b in self.bases) + tuple("blob:" + b + "/" for b in self.bases)
        for msg in self.network():
            params = msg.get("params", {})
            if msg["method"] == "Network.requestWillBeSent":
                url = params["request"]["url"]
                seen += 1
                if not (url.startswith(ours) or url == "about:blank" or url.startswith("data:")):
                    outside.append(url)
            elif msg["method"] == "Network.loadingFailed" and params.get("blockedReason"):
                blocked.append(params)
        self.assertTrue(seen, "the performance log holds no request")
        self.assertEqual(outside, [], "requests outside queryd")
        self.assertEqual(blocked, [], "requests the browser blocked")

    # -- waiting

    def state(self):
        return self.driver.execute_script(READ_STATE)

    def wait(self, predicate, what):
        """Wait for predicate(state); returns the state, fails with the last one seen."""
        seen = []

        def check(_driver):
            seen[:] = [self.state()]
            return predicate(seen[0]) and seen[0]
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(check)
        except TimeoutException:
            self.fail(f"timed out after {WAIT} s waiting for {what}; the page: {seen}")

    def mark_stale(self):
        """Tag the rows shown now, so a wait can tell a new answer from the old one."""
        self.driver.execute_script(
            "document.querySelectorAll('table#rows tbody tr')"
            ".forEach(tr => tr.setAttribute('data-test-stale', ''))")

    def open(self, location_hash=""):
        self.open_at(self.base, location_hash)

    def open_at(self, base, location_hash=""):
        """Load the page afresh (not a same-document hash change)."""
        self.driver.get("about:blank")
        self.driver.get(f"{base}/{location_hash}")

    def wait_for_hash(self, param, value):
        st = self.wait(lambda s: urllib.parse.parse_qs(hash_parts(s["hash"])[1])
                       .get(param) == [value], f"{param}={value} in the hash")
        return st["hash"]

    # -- the API's answers

    def api_json(self, path, server=None, headers=None):
        resp = (server or self.queryd).get(path, headers={"Accept": "application/json",
                                                          **(headers or {})})
        self.assertEqual(resp.status, 200, resp.describe())
        return resp

    def api_problem(self, path):
        resp = self.get(path, headers={"Accept": "application/json"})
        self.assertEqual(resp.content_type, "application/problem+json", resp.describe())
        return resp.json()

    # -- comparing the table with an answer

    def expect_table(self, path, server=None, headers=None):
        """Wait until table#rows shows the answer of GET path, then compare every cell.

        server and headers: another queryd than the class's, and the credential.
        """
        resp = self.api_json(path, server, headers)
        doc, raw = resp.json(), resp.raw_json()
        rows = doc["data"]
        columns = list(rows[0].keys()) if rows else None
        try:
            WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(
                lambda _d: self.settled(self.state(), len(rows), columns))
        except TimeoutException:
            pass  # the comparison below says what differs
        st = self.state()
        self.assertFalse(st["problem"], f"#problem shown for {path}: {st}")
        self.assertEqual(st["status"], "", f"#status for {path}")
        self.assertEqual(st["stale"], 0, f"rows of the previous view still shown: {st}")
        if columns is not None:
            self.assertEqual(st["columns"], columns, f"columns of {path}")
        cells = self.driver.execute_script(READ_TABLE)
        self.assertEqual(len(cells), len(rows), f"rows of {path}")
        problems = []
        for i, (shown, row, raw_row) in enumerate(zip(cells, rows, raw["data"])):
            self.assertEqual([c["column"] for c in shown], list(row.keys()),
                             f"cells of row {i} of {path}")
            for cell, (name, value) in zip(shown, row.items()):
                why = self.cell_mismatch(cell, value, raw_row[name], name in self.binary)
                if why:
                    problems.append(f"row {i} ({row.get('id')}) {name}: {why}: {cell}")
        self.assertEqual(problems[:10], [], f"{len(problems)} cells differ from GET {path}")
        return doc

    @staticmethod
    def settled(st, count, columns):
        return (st["status"] == "" and st["table"] and not st["problem"] and st["stale"] == 0
                and st["rows"] == count and (columns is None or st["columns"] == columns))

    @staticmethod
    def cell_mismatch(cell, value, raw, binary):
        """Why a td does not show value as the contract says (None when it does)."""
        if value is None:
            return None if cell["isNull"] and cell["text"].strip() == "null" else "not a null"
        if cell["isNull"]:
            return "data-null on a value"
        if cell["binary"] != binary:
            return f"data-binary should be {binary}"
        if isinstance(value, (dict, list)):
            if cell["pre"] is None:
                return "JSON value not in a pre"
            try:
                shown = json.loads(cell["pre"])
            except ValueError:
                return "pre is not JSON"
            return None if json_text(shown) == json_text(value) else "other JSON"
        if isinstance(value, bool):
            expected = "true" if value else "false"
        elif isinstance(value, (int, float)):
            kind, written = raw
            if cell["text"] == written:
                return None
            # A double may be printed differently, but must be the same number.
            try:
                same = kind == "float" and float(cell["text"]) == float(written)
            except ValueError:
                same = False
            return None if same else f"number {written} shown as {cell['text']!r}"
        else:
            expected = value
            if cell["elements"]:
                return "markup inside a text cell"
        return None if cell["text"] == expected else f"{expected!r} shown as {cell['text']!r}"

    # -- tests

    def test_entries_and_users_table(self):
        """The entry list is GET / as JSON; the users entry shows the first page."""
        entries = self.api_json("/").json()["entries"]
        self.open()
        links = WebDriverWait(self.driver, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "nav#entries a[data-entry]"))
        shown = sorted((a.get_attribute("data-entry"), a.get_attribute("data-kind")) for a in links)
        self.assertEqual(shown, sorted((e["path"], e["kind"]) for e in entries))
        # The document lists each method a path refuses as a 405-only
        # operation: such a GET is no entry, a real one next to it still is.
        listed = self.driver.execute_script(
            "const doc = {paths: {'/users': state.doc.paths['/users'],"
            " '/refused': {get: {responses: {'405': {description: 'no'}}}}}};"
            "return readEntries(doc).map((e) => e.path);")
        self.assertEqual(listed, ["/users"])
        self.driver.find_element(By.CSS_SELECTOR, 'nav#entries a[data-entry="/users"]').click()
        self.wait(lambda s: hash_parts(s["hash"])[0] == "/users", "the users view")
        doc = self.expect_table("/users")
        self.assertEqual([r["id"] for r in doc["data"]][:2], [1, 2])
        self.save_screenshot("explorer-users.png")
        # The contract's rows: NULLs, JSON, binary and a big integer.
        cells = {c["column"]: c for c in self.driver.execute_script(READ_TABLE)[1]}
        self.assertTrue(all(cells[c]["isNull"] for c in ("age", "bio", "prefs", "avatar")))
        first = {c["column"]: c for c in self.driver.execute_script(READ_TABLE)[0]}
        self.assertEqual(first["visits"]["text"], "9007199254740993")
        self.assertTrue(first["avatar"]["binary"])
        self.assertIsNotNone(first["prefs"]["pre"])

    def save_screenshot(self, name):
        path = self.fixture.dir / name
        self.assertTrue(self.driver.save_screenshot(str(path)), "screenshot failed")
        artifacts = Path(ARTIFACTS) if ARTIFACTS else \
            Path(harness.queryd_binary()).resolve().parent / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, artifacts / name)
        print(f"\nscreenshot of the users table: {artifacts / name}", file=sys.stderr)

    def test_direct_hash(self):
        """A URL with a hash shows that view; so does a hash change."""
        query = "order=age.desc&age=gte.30&select=id,name"
        self.open(f"#/users?{query}")
        self.expect_table(f"/users?{query}")
        self.mark_stale()
        self.driver.execute_script("location.hash = arguments[0]", "#/users?name=like.Ada*")
        self.expect_table("/users?name=like.Ada*")

    def test_sort_by_header(self):
        self.open("#/users")
        self.expect_table("/users")
        for direction in ("asc", "desc"):
            self.mark_stale()
            self.driver.find_element(By.CSS_SELECTOR,
                                     'table#rows thead th[data-column="age"]').click()
            path, query = hash_parts(self.wait_for_hash("order", f"age.{direction}"))
            self.assertEqual(path, "/users")
            doc = self.expect_table(with_query(path, query))
            ages = [r["age"] for r in doc["data"]]
            self.assertEqual(ages, sorted(ages, key=lambda a: (a is not None, a),
                                          reverse=direction == "desc"))

    def set_filter(self, column, op, value):
        Select(self.driver.find_element(
            By.CSS_SELECTOR, f'tr#filters select[data-op-for="{column}"]')).select_by_value(op)
        box = self.driver.find_element(By.CSS_SELECTOR,
                                       f'tr#filters input[data-filter-for="{column}"]')
        box.clear()
        box.send_keys(value)

    def test_filter(self):
        self.open("#/users")
        self.expect_table("/users")
        self.mark_stale()
        self.set_filter("age", "gte", "30")
        self.driver.find_element(By.ID, "apply").click()
        path, query = hash_parts(self.wait_for_hash("age", "gte.30"))
        doc = self.expect_table(with_query(path, query))
        self.assertTrue(doc["data"])
        self.assertTrue(all(r["age"] >= 30 for r in doc["data"]))

    def test_column_choice(self):
        self.open("#/users")
        self.expect_table("/users")
        self.mark_stale()
        for column in ("email", "bio", "prefs"):
            box = self.driver.find_element(
                By.CSS_SELECTOR, f'fieldset#columns input[type=checkbox][data-select="{column}"]')
            self.assertTrue(box.is_selected(), f"{column} unchecked at first")
            box.click()
        self.driver.find_element(By.ID, "apply").click()
        kept = [c for c in harness.DEMO_COLUMNS if c not in ("email", "bio", "prefs")]
        path, query = hash_parts(self.wait_for_hash("select", ",".join(kept)))
        doc = self.expect_table(with_query(path, query))
        self.assertEqual(list(doc["data"][0].keys()), kept)

    def test_next_page_and_back(self):
        self.open("#/users")
        first = self.expect_table("/users")
        self.assertIsNotNone(first["next"])
        self.mark_stale()
        self.driver.find_element(By.ID, "next").click()
        st = self.wait(lambda s: "after=" in s["hash"], "the next page's hash")
        self.assertEqual(st["hash"], "#" + first["next"])
        second = self.expect_table(first["next"])
        self.assertEqual(second["data"][0]["id"], first["data"][-1]["id"] + 1)
        self.mark_stale()
        self.driver.back()
        self.wait(lambda s: s["hash"] == "#/users", "the first page's hash after back")
        self.expect_table("/users")
        # The last page has no next link: the button is disabled.
        self.open("#/users?id=eq.1")
        self.assertIsNone(self.expect_table("/users?id=eq.1")["next"])
        self.assertFalse(self.driver.find_element(By.ID, "next").is_enabled())

    def test_count(self):
        self.open("#/users?age=gte.30")
        self.expect_table("/users?age=gte.30")
        self.driver.find_element(By.ID, "count").click()
        count = self.api_json("/users?age=gte.30&count=exact").json()["count"]
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.find_element(By.ID, "count-value").text.strip())
        self.wait(lambda s: s["status"] == "", "the count")
        self.assertEqual(self.driver.find_element(By.ID, "count-value").text.strip(), str(count))

    def test_named_query(self):
        self.open()
        WebDriverWait(self.driver, WAIT).until(lambda d: d.find_elements(
            By.CSS_SELECTOR, 'nav#entries a[data-entry="/users/{id}/peers"]'))[0].click()
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, 'form#query-form input[name="id"]'))
        inputs = {i.get_attribute("name"): i for i in
                  self.driver.find_elements(By.CSS_SELECTOR, "form#query-form input[name]")}
        self.assertEqual(sorted(inputs), ["hi", "id", "limit", "lo"])
        self.assertEqual({n: i.get_attribute("value") for n, i in inputs.items()},
                         {"id": "", "lo": "0", "hi": "200", "limit": "50"})
        for name, box in inputs.items():
            hint = (box.get_attribute("placeholder") or "") + (box.get_attribute("title") or "")
            self.assertIn("int", hint, f"type of {name}")
        inputs["id"].send_keys("1")
        self.driver.find_element(By.ID, "run").click()
        self.expect_table("/users/1/peers")
        self.mark_stale()
        for name, value in (("id", "7"), ("lo", "30"), ("hi", "40"), ("limit", "5")):
            box = self.driver.find_element(By.CSS_SELECTOR,
                                           f'form#query-form input[name="{name}"]')
            box.clear()
            box.send_keys(value)
        self.driver.find_element(By.ID, "run").click()
        doc = self.expect_table("/users/7/peers?lo=30&hi=40&limit=5")
        self.assertEqual(len(doc["data"]), 5)

    def test_bad_filter_shows_problem(self):
        self.open("#/users")
        self.expect_table("/users")
        self.set_filter("age", "eq", "abc")
        # Chromium reports every 4xx answer on the console.
        self.allowed_console = [f"{self.base}/users?age=eq.abc - Failed to load resource: "
                                "the server responded with a status of 400"]
        self.driver.find_element(By.ID, "apply").click()
        self.wait_for_hash("age", "eq.abc")
        st = self.wait(lambda s: s["problem"] and s["status"] == "", "#problem")
        doc = self.api_problem("/users?age=eq.abc")
        self.assertEqual(doc["status"], 400)
        problem = self.driver.find_element(By.ID, "problem")
        self.assertEqual(problem.find_element(By.CLASS_NAME, "detail").get_attribute("textContent"),
                         doc["detail"])
        self.assertEqual(problem.find_element(By.CLASS_NAME, "title").get_attribute("textContent"),
                         doc["title"])
        self.assertIn("400", st["problemText"])

    def test_hostile_row_is_text(self):
        query = "id=in.(3001,3002)"
        self.open(f"#/users?{query}")
        doc = self.expect_table(f"/users?{query}")
        self.assertEqual(doc["data"][0]["name"], HOSTILE_NAME)
        rows = self.driver.execute_script(READ_TABLE)
        hostile = {c["column"]: c for c in rows[0]}
        for column, text in (("name", HOSTILE_NAME), ("email", HOSTILE_EMAIL),
                             ("bio", HOSTILE_BIO)):
            self.assertEqual(hostile[column]["text"], text)
            self.assertEqual(hostile[column]["elements"], 0, column)
        assert_same_json(self, json.loads(hostile["prefs"]["pre"]), HOSTILE_PREFS)
        empty = {c["column"]: c for c in rows[1]}
        for column in ("bio", "avatar"):
            self.assertEqual(empty[column]["text"], "", column)
            self.assertFalse(empty[column]["isNull"], column)
        self.assertEqual(self.driver.execute_script(
            "return document.querySelectorAll("
            "'table#rows img, table#rows script, table#rows svg, table#rows b, [src=\"x\"]')"
            ".length"), 0)
        self.assertIsNone(self.driver.execute_script("return window.__pwned"))
        with self.assertRaises(NoAlertPresentException):
            self.driver.switch_to.alert.text  # noqa: B018 - raises when no alert is open

    def download(self, link_id, name):
        for old in self.downloads.iterdir():
            old.unlink()
        self.driver.find_element(By.ID, link_id).click()
        target = self.downloads / name

        def done(_driver):
            files = [p.name for p in self.downloads.iterdir()]
            return target.exists() and not any(f.endswith(".crdownload") for f in files)
        try:
            WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(done)
        except TimeoutException:
            self.fail(f"no {name} in the download directory: {list(self.downloads.iterdir())}")
        return target.read_bytes()

    def test_downloads(self):
        query = "age=gte.30&order=age.desc&select=id,name,bio,prefs,avatar&limit=300"
        self.open(f"#/users?{query}")
        self.expect_table(f"/users?{query}")
        for link_id, name, accept in (("download-csv", "users.csv", "text/csv"),
                                      ("download-ndjson", "users.ndjson",
                                       "application/x-ndjson")):
            api = self.get(f"/users?{query}", headers={"Accept": accept})
            self.assertEqual(api.status, 200, api.describe())
            self.assertEqual(self.download(link_id, name), api.body, name)

    # -- credentials, against a second queryd with an "auth" section

    @classmethod
    def auth_queryd(cls):
        """The queryd with auth_config(), started by the first test that needs it."""
        if getattr(cls, "auth", None) is None:
            cls.auth = cls.fixture.queryd(cls.database_url, name="queryd-auth", workers=1,
                                          pool_size=2, config=auth_config(),
                                          QUERYD_JWT_SECRET=AUTH_SECRET)
            cls.auth.secrets += [AUTH_SECRET, READER_KEY]
            cls.addClassCleanup(cls.auth.stop_and_check, harness.class_asserter())
        return cls.auth

    def entries_shown(self):
        # One script: the list is replaced as a whole when it reloads.
        return sorted(tuple(e) for e in self.driver.execute_script(
            "return [...document.querySelectorAll('nav#entries a[data-entry]')]"
            ".map(a => [a.dataset.entry, a.dataset.kind])"))

    def wait_entries(self, expected, what):
        try:
            WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(
                lambda _d: self.entries_shown() == expected)
        except TimeoutException:
            self.fail(f"{what}: the entry list is {self.entries_shown()}, not {expected}")

    def check_credential(self, kind, value, header):
        """Anonymous first, then kind/value typed in: the entries and the users
        table follow the role, every request carries header, and the value is
        kept in sessionStorage alone."""
        server = self.auth_queryd()
        base = f"http://127.0.0.1:{server.port}"
        self.bases.append(base)
        server.secrets.append(value)
        # Typing is slow under load: a prefix of the credential may be tried
        # (and refused) before the whole one.
        self.allowed_console = [f"{base}/openapi.json - Failed to load resource: "
                                "the server responded with a status of 401",
                                f"{base}/users - Failed to load resource: "
                                "the server responded with a status of 401"]
        self.open_at(base)
        self.driver.execute_script("sessionStorage.clear()")
        self.open_at(base, "#/users")

        anonymous = [(e["path"], e["kind"]) for e in self.api_json("/", server).json()["entries"]]
        self.assertEqual(anonymous, [("/users", "resource")])
        self.wait_entries(anonymous, "without a credential")
        doc = self.expect_table("/users", server)
        self.assertEqual(list(doc["data"][0].keys()), ["id", "name"])

        credential = {header: f"Bearer {value}" if kind == "bearer" else value}
        entries = sorted((e["path"], e["kind"]) for e in
                         self.api_json("/", server, credential).json()["entries"])
        self.assertIn(("/users/{id}/peers", "query"), entries)
        self.network()  # what follows is the credential's
        first_request = len(self.network_log)
        self.mark_stale()
        Select(self.driver.find_element(By.ID, "credential-kind")).select_by_value(kind)
        self.driver.find_element(By.ID, "credential").send_keys(value)
        self.wait_entries(entries, f"with the {kind} credential")
        doc = self.expect_table("/users", server, credential)
        self.assertEqual(list(doc["data"][0].keys()), harness.DEMO_COLUMNS)

        # The last /openapi.json and /users requests carried the credential.
        sent = {}
        for msg in self.network()[first_request:]:
            if msg["method"] == "Network.requestWillBeSent":
                request = msg["params"]["request"]
                path = urllib.parse.urlsplit(request["url"]).path
                headers = {k.lower(): v for k, v in request["headers"].items()}
                sent[path] = headers.get(header.lower())
        self.assertEqual({p: sent.get(p) for p in ("/openapi.json", "/users")},
                         {p: credential[header] for p in ("/openapi.json", "/users")})

        # sessionStorage holds it; localStorage, cookies and the URL never do.
        where = self.driver.execute_script("""
            const values = s => [...Array(s.length).keys()].map(i => s.getItem(s.key(i)));
            return {session: values(sessionStorage), local: values(localStorage),
                    cookie: document.cookie, href: location.href};""")
        self.assertIn(value, where["session"])
        self.assertIn(kind, where["session"])
        self.assertFalse(any(value in v for v in where["local"]), "credential in localStorage")
        self.assertNotIn(value, where["cookie"])
        self.assertNotIn(value, where["href"])
        self.assertEqual(self.driver.get_cookies(), [])
        urls = [m["params"]["request"]["url"] for m in self.network()
                if m["method"] == "Network.requestWillBeSent"]
        self.assertFalse([u for u in urls if value in u or
                          urllib.parse.quote(value, safe="") in u], "credential in a URL")

    def test_bearer_token_credential(self):
        self.check_credential("bearer", reader_token(), "Authorization")

    def test_api_key_credential(self):
        self.check_credential("api-key", READER_KEY, "X-API-Key")


if __name__ == "__main__":
    harness.main()

"""Configuration from the environment: --help, bad values, a database that is down.

No MariaDB is needed: bad settings must be refused (exit 2) before any
connection is attempted, and a valid URL pointing at a closed port makes
queryd retry for QUERYD_START_TIMEOUT_MS and exit 1, since it cannot check
its endpoints file (QUERYD_CONFIG, docker/queryd.json here) against a
schema it cannot reach.  test_config_file.py covers the file itself.
"""

import time
import unittest

import harness

VARIABLES = ["QUERYD_DATABASE_URL", "QUERYD_LISTEN", "QUERYD_WORKERS", "QUERYD_POOL_SIZE",
             "QUERYD_QUEUE_LIMIT", "QUERYD_ACQUIRE_TIMEOUT_MS", "QUERYD_QUERY_TIMEOUT_MS",
             "QUERYD_DRAIN_TIMEOUT_MS", "QUERYD_IDLE_TIMEOUT_MS", "QUERYD_HEADER_TIMEOUT_MS",
             "QUERYD_MAX_CONNECTIONS", "QUERYD_MAX_CONNECTIONS_PER_IP", "QUERYD_ACCESS_LOG",
             "QUERYD_TIME_ZONE", "QUERYD_CONFIG", "QUERYD_CORS_ORIGINS",
             "QUERYD_START_TIMEOUT_MS", "QUERYD_BATCH_LOOKUPS"]
PASSWORD = "Pw-d0-n0t-Print-7x"


def closed_port_url(port=None, password=PASSWORD):
    return f"mysql://queryd:{password}@127.0.0.1:{port or harness.free_port()}/queryd"


class ConfigTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)

    def setUp(self):
        self.maxDiff = None

    def assert_refused(self, env, variable):
        """queryd must exit 2 with a message naming variable, without the password."""
        base = {"QUERYD_DATABASE_URL": closed_port_url(),
                "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}",
                "QUERYD_START_TIMEOUT_MS": 1000}
        base.update(env)
        code, out, err = harness.run_queryd_once(base)
        shown = {k: v for k, v in env.items()}
        self.assertEqual(code, 2, f"{shown}: exit code {code}, stderr: {err[-2000:]!r}")
        self.assertIn(variable, err, f"{shown}: stderr does not name {variable}: {err!r}")
        for stream in (out, err):
            self.assertNotIn(PASSWORD, stream, f"{shown}: the password was printed")
            for marker in harness.FORBIDDEN_LOG_MARKERS:
                self.assertNotIn(marker, stream, f"{shown}: {stream[-3000:]}")

    def test_help(self):
        code, out, err = harness.run_queryd_once({}, args=["--help"])
        self.assertEqual(code, 0, err)
        text = out + err
        for name in VARIABLES:
            self.assertIn(name, text, f"--help does not mention {name}")
        self.assertNotIn("AddressSanitizer", text)

    def test_help_ignores_bad_environment(self):
        code, out, err = harness.run_queryd_once(
            {"QUERYD_WORKERS": "abc", "QUERYD_DATABASE_URL": closed_port_url()},
            args=["--help"])
        self.assertEqual(code, 0, err)
        self.assertNotIn(PASSWORD, out + err)

    def test_unknown_argument(self):
        code, out, err = harness.run_queryd_once({"QUERYD_DATABASE_URL": closed_port_url()},
                                                 args=["--no-such-option"])
        self.assertNotEqual(code, 0, "an unknown option was accepted")
        self.assertNotIn(PASSWORD, out + err)

    def test_missing_database_url(self):
        self.assert_refused({"QUERYD_DATABASE_URL": None}, "QUERYD_DATABASE_URL")

    def test_bad_database_urls(self):
        port = harness.free_port()
        urls = [
            "",
            "not a url",
            f"http://queryd:{PASSWORD}@127.0.0.1:{port}/queryd",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:{port}",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:{port}/",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:99999/queryd",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:0/queryd",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:abc/queryd",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:-1/queryd",
            f"mysql://queryd:{PASSWORD}@/queryd",
            f"mysql://queryd:{PASSWORD}@localhost/queryd?socket=",
            f"mysql://queryd:{PASSWORD}@127.0.0.1:{port}/que%zzryd",
        ]
        for url in urls:
            with self.subTest(url=url.replace(PASSWORD, "<password>")):
                self.assert_refused({"QUERYD_DATABASE_URL": url}, "QUERYD_DATABASE_URL")

    def test_bad_workers(self):
        for value in ("0", "abc", "-1", "2x", "99999999999999999999"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_WORKERS": value}, "QUERYD_WORKERS")

    def test_bad_pool_size(self):
        for value in ("0", "abc", "-3", "4.5"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_POOL_SIZE": value}, "QUERYD_POOL_SIZE")

    def test_bad_listen(self):
        for value in ("bad", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:abc",
                      ":8080x", "127.0.0.1:-80"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_LISTEN": value}, "QUERYD_LISTEN")

    def test_bad_queue_limit_and_timeout(self):
        for name, value in (("QUERYD_QUEUE_LIMIT", "abc"), ("QUERYD_QUEUE_LIMIT", "-1"),
                            ("QUERYD_QUERY_TIMEOUT_MS", "abc"),
                            ("QUERYD_ACQUIRE_TIMEOUT_MS", "-5"),
                            ("QUERYD_BATCH_LOOKUPS", "0"), ("QUERYD_BATCH_LOOKUPS", "65")):
            with self.subTest(name=name, value=value):
                self.assert_refused({name: value}, name)

    def test_bad_time_zone(self):
        # Only values no reading of the variable could accept; whether a
        # named zone exists is up to the server and not checked here.
        for value in ("+5:00x", "garbage zone", "+05:00:00:00"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_TIME_ZONE": value}, "QUERYD_TIME_ZONE")

    def assert_gives_up(self, url, secrets=(PASSWORD,)):
        """A valid URL whose database is unreachable: exit 1 after about
        QUERYD_START_TIMEOUT_MS, the password never printed."""
        start = time.monotonic()
        code, out, err = harness.run_queryd_once(
            {"QUERYD_DATABASE_URL": url, "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}",
             "QUERYD_START_TIMEOUT_MS": 1000})
        elapsed = time.monotonic() - start
        self.assertEqual(code, 1, f"exit code {code}, stderr: {err[-2000:]!r}")
        self.assertLess(elapsed, 6.0, "QUERYD_START_TIMEOUT_MS=1000 was not honoured")
        for secret in secrets:
            self.assertNotIn(secret, out + err, "the password was printed")
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, out + err)
        return err

    def test_database_down_at_start(self):
        self.assert_gives_up(closed_port_url())

    def test_socket_url_accepted(self):
        url = (f"mysql://queryd:{PASSWORD}@localhost/queryd?socket="
               f"{self.fixture.dir}/no-such.sock")
        err = self.assert_gives_up(url)
        self.assertNotIn("QUERYD_DATABASE_URL must", err)

    def test_percent_encoded_password_is_not_printed(self):
        secret = "p@ss:w/rd%"
        encoded = "p%40ss%3Aw%2Frd%25"
        url = f"mysql://queryd:{encoded}@127.0.0.1:{harness.free_port()}/queryd"
        self.assert_gives_up(url, secrets=(secret, encoded))

    def test_bad_start_timeout(self):
        for value in ("abc", "-1", "2x", "99999999999"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_START_TIMEOUT_MS": value}, "QUERYD_START_TIMEOUT_MS")

    def test_bad_cors_origins(self):
        for value in ("example.com", "https://example.com/", "https://a.example,"):
            with self.subTest(value=value):
                self.assert_refused({"QUERYD_CORS_ORIGINS": value}, "QUERYD_CORS_ORIGINS")

    def test_listen_address_in_use(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            code, out, err = harness.run_queryd_once(
                {"QUERYD_DATABASE_URL": closed_port_url(), "QUERYD_LISTEN": f"127.0.0.1:{port}",
                 "QUERYD_START_TIMEOUT_MS": 1000})
        self.assertNotEqual(code, 0, "queryd started on a port that was taken")
        self.assertNotIn(PASSWORD, out + err)
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, out + err)


if __name__ == "__main__":
    harness.main()

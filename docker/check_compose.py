#!/usr/bin/env python3
"""Checks docker/docker-compose.yml without a Docker engine.

Asserts the structure the deployment relies on: the db and queryd services,
their healthchecks, queryd waiting for a healthy db, the initdb mount pointing
at SQL files that exist, and the database URL matching the db credentials.
Exits non-zero with one line per problem.
"""

import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def env_dict(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def healthcheck_test(service):
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return list(test or [])


def check(path):
    problems = []

    def expect(cond, message):
        if not cond:
            problems.append(message)

    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(path))
    services = (doc or {}).get("services") or {}
    expect(set(services) >= {"db", "queryd"}, "services db and queryd must exist")
    db = services.get("db") or {}
    app = services.get("queryd") or {}

    image = str(db.get("image", ""))
    expect(image.startswith("mariadb:10.11"), "db.image must be mariadb:10.11, got %r" % image)
    db_env = env_dict(db)
    for key, want in (("MARIADB_DATABASE", "queryd"), ("MARIADB_USER", "queryd"),
                      ("MARIADB_PASSWORD", "queryd-secret")):
        expect(db_env.get(key) == want, "db.environment.%s must be %r" % (key, want))
    expect(any(k in db_env for k in ("MARIADB_ROOT_PASSWORD", "MARIADB_RANDOM_ROOT_PASSWORD",
                                     "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD")),
           "db.environment must set the root password policy")

    mounts = [str(v) for v in db.get("volumes") or []]
    initdb = [m for m in mounts if m.split(":")[1:2] == ["/docker-entrypoint-initdb.d"]]
    expect(len(initdb) == 1, "db must mount a directory on /docker-entrypoint-initdb.d")
    for mount in initdb:
        host = os.path.normpath(os.path.join(base, mount.split(":")[0]))
        sql = sorted(n for n in os.listdir(host) if n.endswith(".sql")) if os.path.isdir(host) else []
        expect(sql[:2] == ["01-schema.sql", "02-data.sql"],
               "%s must hold 01-schema.sql and 02-data.sql (found %s)" % (host, sql))
        expect(mount.endswith(":ro"), "the initdb mount should be read-only")

    test = healthcheck_test(db)
    expect(test[:1] == ["CMD"] and "healthcheck.sh" in test and "--connect" in test
           and "--innodb_initialized" in test,
           "db.healthcheck must run healthcheck.sh --connect --innodb_initialized")

    build = app.get("build") or {}
    if isinstance(build, str):
        build = {"context": build}
    context = os.path.normpath(os.path.join(base, build.get("context", ".")))
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    expect(os.path.isfile(dockerfile), "queryd.build must name an existing Dockerfile (%s)" % dockerfile)
    expect(os.path.isfile(os.path.join(context, "CMakeLists.txt")),
           "queryd.build.context must be the repository root")

    depends = app.get("depends_on") or {}
    expect(isinstance(depends, dict)
           and (depends.get("db") or {}).get("condition") == "service_healthy",
           "queryd.depends_on.db.condition must be service_healthy")

    app_env = env_dict(app)
    want_url = "mysql://%s:%s@db:3306/%s" % (db_env.get("MARIADB_USER"),
                                             db_env.get("MARIADB_PASSWORD"),
                                             db_env.get("MARIADB_DATABASE"))
    expect(app_env.get("QUERYD_DATABASE_URL") == want_url,
           "queryd.environment.QUERYD_DATABASE_URL must be %s" % want_url)
    ports = [str(p) for p in app.get("ports") or []]
    expect(any(p.split(":")[-2:] == ["8080", "8080"] for p in ports),
           "queryd must publish 8080:8080")
    test = healthcheck_test(app)
    expect(any("curl" in t for t in test) and any("/readyz" in t for t in test),
           "queryd.healthcheck must curl /readyz")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "docker-compose.yml")
    problems = check(path)
    for p in problems:
        print("%s: %s" % (path, p), file=sys.stderr)
    if not problems:
        print("%s: ok" % path)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

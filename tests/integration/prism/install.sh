#!/usr/bin/env bash
# Installs Stoplight Prism, at the exact version package-lock.json pins, into
# the folder given (a build tree's, e.g. build-asan/prism) and prints the path
# of its prism binary. A second run with the same lock file installs nothing.
# Several test runs may share the folder: the install happens under a lock.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=${1:?usage: install.sh <folder>}
prism="$prefix/node_modules/.bin/prism"
stamp="$prefix/.installed-lock"

mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9
if [ ! -x "$prism" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
        if ! command -v npm >/dev/null 2>&1; then
                echo "prism/install.sh: npm is needed (scripts/deps installs it)" >&2
                exit 1
        fi
        cp "$here/package.json" "$here/package-lock.json" "$prefix/"
        echo "prism/install.sh: installing @stoplight/prism-cli into $prefix" >&2
        # npm ci installs exactly the lock file, with no scripts of our own
        # to run and nothing reported home.
        (cd "$prefix" && npm ci --no-audit --no-fund --loglevel=error >&2)
        cp "$here/package-lock.json" "$stamp"
fi
flock -u 9
echo "$prism"

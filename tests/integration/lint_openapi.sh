#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI (recommended ruleset, see redocly.yaml beside this script),
# or the document given as the argument (test_openapi.py lints what GET /openapi.json serves).
# Fails when the document has errors; warnings are printed but pass.
# Redocly CLI is installed with npm into the git-ignored .state/node_modules
# on first use, pinned to one version so results do not drift.
set -euo pipefail

version=2.77.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix="$repo/.state"
redocly="$prefix/node_modules/.bin/redocly"

# No usage reports or update checks: lint runs offline apart from the install.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

installed_version() {
        [ -x "$redocly" ] || return 0
        node -e 'console.log(require(process.argv[1]).version)' \
                "$prefix/node_modules/@redocly/cli/package.json" 2>/dev/null || true
}

if [ "$(installed_version)" != "$version" ]; then
        if ! command -v npm >/dev/null 2>&1; then
                echo "lint_openapi: npm is needed to install @redocly/cli@$version" >&2
                exit 1
        fi
        mkdir -p "$prefix"
        # Several CTest runs may share the checkout: install under a lock.
        exec 9>"$prefix/.redocly-install.lock"
        flock 9
        if [ "$(installed_version)" != "$version" ]; then
                echo "lint_openapi: installing @redocly/cli@$version into $prefix" >&2
                npm install --prefix "$prefix" --no-save --no-audit --no-fund \
                        --loglevel=error "@redocly/cli@$version" >&2
        fi
        flock -u 9
fi

document=openapi.yaml
if [ $# -gt 0 ]; then
        document=$(realpath "$1")
fi
cd "$repo"
exec "$redocly" lint --config tests/integration/redocly.yaml --format=stylish "$document"

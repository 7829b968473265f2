#!/usr/bin/env bash
# The build steps of docker/Dockerfile, kept in a script so CI can run them
# without a Docker engine.
#
#   docker/build.sh deps                       install missing build packages
#   docker/build.sh build SRC BUILD PREFIX     Release build, install to PREFIX
#   docker/build.sh context DOCKERFILE REPO DEST
#        copy what the build stage's COPY lines copy, to build exactly the
#        files the image build sees
#   docker/build.sh check-runtime BIN DOCKERFILE
#        check that every library BIN links directly comes from a package the
#        Dockerfile's runtime stage installs (or from libc)
set -euo pipefail

build_packages=(build-essential cmake pkg-config
                libmicrohttpd-dev libmariadb-dev libjansson-dev libuv1-dev libssl-dev
                libzstd-dev zlib1g-dev)
# Present in every Debian/Ubuntu base image.
base_packages=(libc6 libgcc-s1)

die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

installed() {
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

cmd_deps() {
        local missing=() pkg sudo=()
        for pkg in "${build_packages[@]}"; do
                installed "$pkg" || missing+=("$pkg")
        done
        [ "${#missing[@]}" -eq 0 ] && return 0
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends "${missing[@]}"
}

cmd_build() {
        [ $# -eq 3 ] || die "usage: build SRC BUILD PREFIX"
        local src=$1 build=$2 prefix=$3
        cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
                -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX="$prefix"
        cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
        cmake --install "$build" --strip
        "$prefix/bin/queryd" --help >/dev/null ||
                die "$prefix/bin/queryd --help failed"
}

cmd_context() {
        [ $# -eq 3 ] || die "usage: context DOCKERFILE REPO DEST"
        local dockerfile=$1 repo=$2 dest=$3 src dst
        mkdir -p "$dest"
        # COPY lines of the first stage, without --from and other flags.
        while read -r src dst; do
                if [ -d "$repo/$src" ]; then
                        mkdir -p "$dest/$dst"
                        cp -a "$repo/$src/." "$dest/$dst/"
                elif [[ "$dst" == */ ]]; then
                        mkdir -p "$dest/$dst"
                        cp -a "$repo/$src" "$dest/$dst"
                else
                        mkdir -p "$(dirname "$dest/$dst")"
                        cp -a "$repo/$src" "$dest/$dst"
                fi
        done < <(awk '/^FROM[ \t]/ { stage++ }
                      stage == 1 && $1 == "COPY" && $2 !~ /^--/ && NF == 3 { print $2, $3 }' \
                      "$dockerfile")
}

cmd_check_runtime() {
        [ $# -eq 2 ] || die "usage: check-runtime BINARY DOCKERFILE"
        local binary=$1 dockerfile=$2 runtime lib path pkg failed=0
        # Packages named on apt-get install lines after the last FROM.
        runtime=$(awk '/^FROM[ \t]/ { pkgs = ""; next }
                       /apt-get/ { on = 1 }
                       on {
                               for (i = 1; i <= NF; i++) {
                                       if ($i == "install") { args = 1; continue }
                                       if ($i == "&&" || $i == ";") { args = 0; continue }
                                       if (args && $i ~ /^[a-z0-9][a-z0-9.+-]+$/) pkgs = pkgs " " $i
                               }
                               if ($0 !~ /\\$/) { on = 0; args = 0 }
                       }
                       END { print pkgs }' "$dockerfile")
        [ -n "$runtime" ] || die "no apt-get install in the runtime stage of $dockerfile"
        for lib in $(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }'); do
                path=$(ldd "$binary" | awk -v l="$lib" '$1 == l { print $3 }')
                [ -n "$path" ] || { echo "unresolved library $lib" >&2; failed=1; continue; }
                pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) ||
                        true
                [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1) || true
                if [ -z "$pkg" ]; then
                        echo "$lib ($path) belongs to no package" >&2
                        failed=1
                elif [[ " $runtime ${base_packages[*]} " != *" $pkg "* ]]; then
                        echo "$lib comes from $pkg, which the runtime stage does not install" >&2
                        failed=1
                fi
        done
        [ "$failed" -eq 0 ] || die "runtime stage of $dockerfile misses libraries"
        echo "runtime libraries of $binary are covered by: $runtime"
}

case "${1:-}" in
deps) shift; cmd_deps "$@" ;;
build) shift; cmd_build "$@" ;;
context) shift; cmd_context "$@" ;;
check-runtime) shift; cmd_check_runtime "$@" ;;
*) die "usage: $0 deps | build SRC BUILD PREFIX | context DOCKERFILE REPO DEST | check-runtime BINARY DOCKERFILE" ;;
esac

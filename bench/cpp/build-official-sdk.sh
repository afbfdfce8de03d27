#!/bin/sh
# Builds the official Alibaba Cloud OSS C++ SDK 1.10.1 once into a cache outside the repository
# (for the bench's "official C++ SDK" rows) and prints the install prefix on stdout.
#
#   bench/cpp/build-official-sdk.sh            # prints e.g. /root/.cache/oss-ffi-bench/oss-cpp-sdk-1.10.1/install
#
# Environment:
#   OSS_CPP_SDK_TARBALL  the source tarball (default: ../shared/peers/aliyun-oss-cpp-sdk-1.10.1.tar.gz
#                        relative to the repository)
#   OSS_CPP_SDK_CACHE    the cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/oss-ffi-bench/oss-cpp-sdk-1.10.1)
#   OSS_CPP_SDK_JOBS     parallel compile jobs (default: the number of cores)
#
# Reuses the cache when install/.complete is there (delete the cache directory to rebuild).
# Installs the Debian build dependencies (libcurl4-openssl-dev libssl-dev cmake g++) with apt-get
# when run as root and they are missing. Exit status 0 = built (or cached), 2 = cannot be built
# here (the reason is the last line on stderr); nothing of the SDK is written into the repository.
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=1.10.1
TARBALL=${OSS_CPP_SDK_TARBALL:-$REPO/../shared/peers/aliyun-oss-cpp-sdk-$VERSION.tar.gz}
CACHE=${OSS_CPP_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oss-ffi-bench/oss-cpp-sdk-$VERSION}
JOBS=${OSS_CPP_SDK_JOBS:-$(nproc 2>/dev/null || echo 2)}
PREFIX=$CACHE/install

cannot() {
    echo "official C++ SDK: cannot build: $*" >&2
    exit 2
}

if [ -f "$PREFIX/.complete" ]; then
    echo "$PREFIX"
    exit 0
fi

[ -f "$TARBALL" ] || cannot "no tarball at $TARBALL (set OSS_CPP_SDK_TARBALL)"

# Debian build dependencies, only when missing and only as root.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v g++ >/dev/null 2>&1 || need="$need g++"
if command -v dpkg-query >/dev/null 2>&1; then
    for p in libcurl4-openssl-dev libssl-dev; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
    done
fi
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "official C++ SDK: apt-get install -y$need" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q$need >&2 ||
            { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q$need >&2; } ||
            cannot "apt-get install$need failed"
    else
        cannot "missing build dependencies:$need (install them, or run as root)"
    fi
fi
command -v cmake >/dev/null 2>&1 || cannot "no cmake"
command -v g++ >/dev/null 2>&1 || command -v c++ >/dev/null 2>&1 || cannot "no C++ compiler"

mkdir -p "$CACHE"
# An interrupted build (src/ unpacked, build/ configured) is resumed; anything else starts afresh.
if [ ! -f "$CACHE/src/.unpacked" ]; then
    rm -rf "$CACHE/src" "$CACHE/build" "$PREFIX" "$CACHE/.started"
    mkdir -p "$CACHE/src"
    tar -xzf "$TARBALL" -C "$CACHE/src" || cannot "cannot unpack $TARBALL"
    touch "$CACHE/src/.unpacked"
fi
SRC=$(find "$CACHE/src" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -n "$SRC" ] && [ -f "$SRC/CMakeLists.txt" ] || cannot "no CMakeLists.txt in $TARBALL"
[ -f "$CACHE/.started" ] || date +%s >"$CACHE/.started"

# The SDK builds with -Werror; GCC 12 with Debian 12's curl warns in its bundled jsoncpp and in
# CurlHttpClient.cc (see ../shared/peers/README.md). The static library only (the SDK's CMake
# always builds it; BUILD_SHARED_LIBS=ON would compile every file a second time): programs link
# -lalibabacloud-oss-cpp-sdk -lcurl -lssl -lcrypto -lpthread.
echo "official C++ SDK: building $VERSION into $CACHE with $JOBS job(s) (once; several minutes)" >&2
{
    cmake -S "$SRC" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DBUILD_SAMPLE=OFF -DBUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" \
        "-DCMAKE_CXX_FLAGS=-Wno-error=uninitialized -Wno-error=maybe-uninitialized -Wno-error=deprecated-declarations" &&
        cmake --build "$CACHE/build" -j "$JOBS" &&
        cmake --install "$CACHE/build"
} >>"$CACHE/build.log" 2>&1 || {
    tail -n 20 "$CACHE/build.log" >&2
    cannot "the build failed (log: $CACHE/build.log)"
}
end=$(date +%s)
echo "built in $((end - $(cat "$CACHE/.started"))) s with $JOBS job(s) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" \
    >"$PREFIX/.complete"
echo "official C++ SDK: $(cat "$PREFIX/.complete")" >&2
echo "$PREFIX"

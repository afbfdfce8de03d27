# oss-ffi: build, examples, install and the README demo.
#
#   make build                  cargo build --release (target/release/liboss_ffi.{so,a})
#   make examples               examples-c/ and examples-cpp/ against the release library
#                               (binaries in target/examples/)
#   make install PREFIX=/opt/x  shared library with soname links, static library, headers
#                               (oss_ffi.h, the C++ layer oss_ffi/cxx/ and its drop-in form
#                               alibabacloud/oss/), pkg-config oss_ffi.pc and the
#                               CMake package oss_ffi (find_package(oss_ffi), target oss_ffi::oss_ffi),
#                               and the tools in PREFIX/bin: oss_download, oss_async_download (linked
#                               with RUNPATH $ORIGIN/../lib: the prefix can be moved) and oss-emulator
#   make install DROP_IN=no     without the drop-in tree alibabacloud/oss/ (the official SDK's paths)
#   make install-strip ...      the same with debug info stripped (the .so 37.5 MB -> 4.7 MB)
#   make install-files ...      the library part without building (LIBSRC=target/debug to install a
#                               debug build); install-tools-files the tools part (the C tools are
#                               compiled against the installed library; oss-emulator from BINSRC,
#                               default LIBSRC); install-strip-files both, stripped
#   make demo                   scripts/demo.sh: interrupt a download, resume it, verify it
#   make test                   scripts/test.sh (everything CI runs)
#   make bench                  bench/run.py: side by side with the official C++ SDK (built once into
#                               ~/.cache/oss-ffi-bench), curl and the Python SDKs over HTTP and HTTPS
#                               in a balanced order, scaling, CRC and resume cost (BENCHMARKS.md);
#                               BENCH_ARGS="--size 256M --tools cpp-ffi,cpp-official,curl ..."
#   make bench-cpp-sdk          only build (or find) the official C++ SDK for the bench

PREFIX   ?= /usr/local
DESTDIR  ?=
CARGO    ?= cargo
CC       ?= cc
CXX      ?= c++
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN      = -Wall -Wextra -Werror -pedantic

VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
MAJOR   := $(word 1,$(subst ., ,$(VERSION)))
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
# 0.x: every minor release may break the ABI (see build.rs).
SONAME  := $(if $(filter 0,$(MAJOR)),liboss_ffi.so.$(MAJOR).$(MINOR),liboss_ffi.so.$(MAJOR))
# What a program linking liboss_ffi.a also needs (Rust's native-static-libs on Linux).
STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

RELEASE  := target/release
LIBSRC   ?= $(RELEASE)
BINSRC   ?= $(LIBSRC)
EXOUT    := target/examples
LIBDIR    = $(DESTDIR)$(PREFIX)/lib
INCDIR    = $(DESTDIR)$(PREFIX)/include
# DROP_IN=no: install only the coexistence form oss_ffi/cxx/ (namespace OssFfi), not the drop-in
# tree alibabacloud/oss/, e.g. into a prefix that holds the official C++ SDK's headers.
DROP_IN  ?= yes
CXX_TREES = oss_ffi $(if $(filter yes,$(DROP_IN)),alibabacloud)
BINDIR    = $(DESTDIR)$(PREFIX)/bin
STRIP    ?= strip
# The C tools: each program's file plus what they share (option parsing, common options).
CLI_COMMON := examples-c/cli_common.c
CLI_TOOLS  := oss_download oss_async_download

.PHONY: all build examples install install-files install-tools-files install-strip \
	install-strip-files uninstall demo test clean-examples

all: build

# One cargo invocation for the library and the emulator: cargo unifies the dependencies' features
# over the packages it builds, so building them separately (-p oss-ffi, then -p oss-emulator)
# compiles tokio, hyper, rustls, ring, reqwest... twice with different feature sets, and every
# alternation rebuilds them. CARGO_BUILD_FLAGS="-q" quiets it (progress goes to stderr).
build:
	$(CARGO) build --release $(CARGO_BUILD_FLAGS) -p oss-ffi -p oss-emulator
	ln -sf liboss_ffi.so $(RELEASE)/$(SONAME)

examples: build
	mkdir -p $(EXOUT)
	$(CC) -std=c11 $(WARN) $(CFLAGS) -Iinclude examples-c/oss_download.c $(CLI_COMMON) -o $(EXOUT)/oss_download \
	    -L$(RELEASE) -loss_ffi -Wl,-rpath,$(abspath $(RELEASE)) -pthread
	$(CC) -std=c11 $(WARN) $(CFLAGS) -Iinclude examples-c/oss_download.c $(CLI_COMMON) -o $(EXOUT)/oss_download_static \
	    $(RELEASE)/liboss_ffi.a $(STATIC_LIBS) -pthread
	$(CC) -std=c11 $(WARN) $(CFLAGS) -Iinclude examples-c/oss_async_download.c $(CLI_COMMON) -o $(EXOUT)/oss_async_download \
	    -L$(RELEASE) -loss_ffi -Wl,-rpath,$(abspath $(RELEASE)) -pthread
	for src in examples-cpp/*.cpp; do \
	    name=$$(basename $$src .cpp); \
	    $(CXX) -std=c++11 $(WARN) $(CXXFLAGS) -Iinclude $$src -o $(EXOUT)/$$name \
	        -L$(RELEASE) -loss_ffi -Wl,-rpath,$(abspath $(RELEASE)) || exit 1; \
	done
	@echo "examples built in $(EXOUT)/"

install: build
	$(MAKE) --no-print-directory install-files install-tools-files

install-strip: build
	$(MAKE) --no-print-directory install-strip-files

# Installs an already built library from $(LIBSRC) (the tests use LIBSRC=target/debug).
install-files:
	install -d $(LIBDIR) $(LIBDIR)/pkgconfig $(LIBDIR)/cmake/oss_ffi $(INCDIR)
	install -m 0755 $(LIBSRC)/liboss_ffi.so $(LIBDIR)/liboss_ffi.so.$(VERSION)
	ln -sf liboss_ffi.so.$(VERSION) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/liboss_ffi.so
	install -m 0644 $(LIBSRC)/liboss_ffi.a $(LIBDIR)/liboss_ffi.a
	install -m 0644 include/oss_ffi.h $(INCDIR)/oss_ffi.h
	cd include && find $(CXX_TREES) -type d -exec install -d $(abspath $(INCDIR))/{} \;
	cd include && find $(CXX_TREES) -type f -name '*.h' -exec install -m 0644 {} $(abspath $(INCDIR))/{} \;
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|g' \
	    packaging/oss_ffi.pc.in > $(LIBDIR)/pkgconfig/oss_ffi.pc
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SONAME@|$(SONAME)|g' \
	    -e 's|@STATIC_LIBS_CMAKE@|$(subst $(eval) ,;,$(patsubst -l%,%,$(STATIC_LIBS)))|g' \
	    packaging/oss_ffiConfig.cmake.in > $(LIBDIR)/cmake/oss_ffi/oss_ffiConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@MINOR@|$(MINOR)|g' \
	    packaging/oss_ffiConfigVersion.cmake.in > $(LIBDIR)/cmake/oss_ffi/oss_ffiConfigVersion.cmake
	@echo "installed oss_ffi $(VERSION) in $(DESTDIR)$(PREFIX)"

# The tools, after install-files: the C programs are linked against the installed library with
# RUNPATH $ORIGIN/../lib (found wherever the prefix is, also after it is moved; nothing points
# into the checkout), and the emulator is copied from $(BINSRC).
install-tools-files:
	install -d $(BINDIR)
	for t in $(CLI_TOOLS); do \
	    $(CC) -std=c11 $(WARN) $(CFLAGS) -I$(INCDIR) examples-c/$$t.c $(CLI_COMMON) -o $(BINDIR)/$$t \
	        -L$(LIBDIR) -loss_ffi '-Wl,-rpath,$$ORIGIN/../lib' -pthread || exit 1; \
	done
	install -m 0755 $(BINSRC)/oss-emulator $(BINDIR)/oss-emulator
	@echo "installed $(CLI_TOOLS) oss-emulator in $(BINDIR)"

# install-files + install-tools-files, then the debug info stripped from the shared library, the
# static library (its symbol table stays: it is linked against) and the programs; the shared
# library keeps its dynamic symbols only (what the loader uses).
install-strip-files:
	$(MAKE) --no-print-directory install-files install-tools-files
	$(STRIP) --strip-unneeded $(LIBDIR)/liboss_ffi.so.$(VERSION)
	$(STRIP) --strip-debug $(LIBDIR)/liboss_ffi.a
	$(STRIP) $(addprefix $(BINDIR)/,$(CLI_TOOLS)) $(BINDIR)/oss-emulator

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(CLI_TOOLS)) $(BINDIR)/oss-emulator
	rm -f $(LIBDIR)/liboss_ffi.so $(LIBDIR)/$(SONAME) $(LIBDIR)/liboss_ffi.so.$(VERSION) $(LIBDIR)/liboss_ffi.a
	rm -f $(LIBDIR)/pkgconfig/oss_ffi.pc $(INCDIR)/oss_ffi.h
	rm -rf $(LIBDIR)/cmake/oss_ffi $(INCDIR)/oss_ffi/cxx $(if $(filter yes,$(DROP_IN)),$(INCDIR)/alibabacloud/oss)
	-rmdir $(INCDIR)/oss_ffi 2>/dev/null

demo:
	scripts/demo.sh

test:
	scripts/test.sh

.PHONY: bench bench-cpp-sdk
bench:
	python3 bench/run.py $(BENCH_ARGS)

# OSS_CPP_SDK_TARBALL (default ../shared/peers/aliyun-oss-cpp-sdk-1.10.1.tar.gz), OSS_CPP_SDK_CACHE,
# OSS_CPP_SDK_JOBS: see the script.
bench-cpp-sdk:
	bench/cpp/build-official-sdk.sh

clean-examples:
	rm -rf $(EXOUT)

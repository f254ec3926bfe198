# gwwatchd — build, test, demo, benchmarks.
# `make demo` and `make test` install what they need (Debian packages) first.

GO      ?= go
PYTHON  := /usr/bin/python3
PKG     := github.com/gwwatchd/gwwatchd
BIN     := bin/gwwatchd
DEBS    := libhdf5-dev hdf5-tools python3-h5py python3-scipy python3-numpy pkg-config gcc systemd systemd-container time \
           python3-astropy python3-matplotlib python3-dateparser python3-requests python3-tqdm
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Version from git; a build outside a checkout falls back to the Go build info.
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null)
REVISION := $(shell git rev-parse HEAD 2>/dev/null)
DIRTY    := $(shell git rev-parse HEAD >/dev/null 2>&1 && { [ -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo true || echo false; })
LDFLAGS  := $(if $(VERSION),-X $(PKG)/buildinfo.Version=$(VERSION)) \
            $(if $(REVISION),-X $(PKG)/buildinfo.Revision=$(REVISION)) \
            $(if $(DIRTY),-X $(PKG)/buildinfo.Dirty=$(DIRTY))

PREFIX  ?= /usr/local
UNITDIR ?= /lib/systemd/system

.PHONY: all build deps test fmt-check vet unit cover interop test-systemd demo bench install clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gwwatchd

# deps installs the Debian packages that are missing, and nothing else.
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The tests that check a large corpus or a large file run at a reduced size
# under -race (see internal/testsize); the packages that have them, whose
# tests ask testsize.Full, run a second time without it, at full size.
FULLSIZE = $(shell $(GO) list -f '{{.Dir}} {{.ImportPath}}' ./... | \
             while read -r dir pkg; do grep -qs 'testsize\.Full()' "$$dir"/*_test.go && echo "$$pkg"; done)

unit: build
	GWWATCHD_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./...
	@test -n "$(FULLSIZE)" || { echo "no package's tests ask testsize.Full"; exit 1; }
	GWWATCHD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 $(FULLSIZE)

# cover: per-package coverage of the tests, with that of the gwwatchd
# processes the e2e tests run (a -cover build of the binary) merged in.
cover:
	GO=$(GO) bash scripts/cover.sh

# interop: archives read by h5py and h5dump, ASDs compared with scipy.
interop: build
	GWWATCHD_BIN=$(CURDIR)/$(BIN) GWWATCHD_PYTHON=$(PYTHON) GWWATCHD_REQUIRE_PYTHON=1 \
	  $(GO) test -count=1 -tags interop -v -run 'Interop' ./interop/

# test-systemd: the service installed and run under a real systemd, booted
# in a container over an overlay of this machine's root (root only; it
# says why and skips where that cannot run).
test-systemd: deps build
	GO=$(GO) PYTHON=$(PYTHON) bash systemd/nspawn-test.sh

test: deps fmt-check vet unit interop test-systemd

demo: deps build
	@bash scripts/demo.sh $(BIN)

bench: deps build
	@bash bench/run.sh $(BIN)

# install puts the binary, the unit, the sysusers and tmpfiles snippets and
# an example configuration (never over an existing one) in place.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/gwwatchd
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/lib/tmpfiles.d $(DESTDIR)/etc/gwwatchd
	sed 's|^\(Exec[A-Za-z]*\)=/usr/local/bin/gwwatchd |\1=$(PREFIX)/bin/gwwatchd |' systemd/gwwatchd.service >$(DESTDIR)$(UNITDIR)/gwwatchd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gwwatchd.service
	install -m 0644 systemd/gwwatchd.sysusers $(DESTDIR)/usr/lib/sysusers.d/gwwatchd.conf
	install -m 0644 systemd/gwwatchd.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/gwwatchd.conf
	test -e $(DESTDIR)/etc/gwwatchd/config.toml || install -m 0644 systemd/config.toml $(DESTDIR)/etc/gwwatchd/config.toml
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	  systemd-sysusers gwwatchd.conf && systemd-tmpfiles --create gwwatchd.conf && systemctl daemon-reload; \
	fi

clean:
	rm -rf bin var bench/out

# Warden: `make test` and `make run` work on a fresh Debian 12 machine with Swift installed;
# the system libraries Warden needs are installed with apt-get when missing.

SWIFT       ?= swift
APT_PACKAGES = libpcre2-dev pcre2-utils libsqlite3-dev systemd pkg-config
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN  = .build/release/warden
DEBUG_BIN    = .build/debug/warden

.PHONY: deps build release test unit rules-test bench eval clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The whole suite: unit tests, end-to-end tests on the real binary, and the shipped rules' examples.
test: deps
	$(SWIFT) build --build-tests
	WARDEN_BIN=$(CURDIR)/$(DEBUG_BIN) $(SWIFT) test --skip-build
	$(DEBUG_BIN) check rules/
	$(DEBUG_BIN) test rules/
	$(MAKE) browser-test

# Throughput of `warden scan` against pcre2grep over the same generated corpus.
bench: release
	python3 scripts/bench-scan.py --warden $(RELEASE_BIN) --rules rules

# Accuracy figures (not a pass/fail test).
eval: release
	scripts/eval.sh $(RELEASE_BIN)

clean:
	rm -rf .build

# ---------------------------------------------------------------------------------------------
# Fuzzing (docs/RELIABILITY.md, "Fuzzing"). libFuzzer + ASan targets live in their own package,
# Fuzz/Package.swift, because they only link when built with -sanitize=fuzzer. Each target runs
# for FUZZ_SECONDS; inputs that add coverage are merged into Fuzz/Corpus/TARGET/ to be committed.
FUZZ_SECONDS ?= 60

.PHONY: fuzz
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) scripts/fuzz.sh

# ---------------------------------------------------------------------------------------
# Daemon targets (owned by the daemon work; see docs/DAEMON.md).

.PHONY: run bench-daemon

# The daemon in the foreground on ./var with ./rules: drop posts into var/inbox/ and read
# var/outbox/. Ctrl-C stops it after finishing the posts in flight.
RUN_ARGS ?=
run: build
	@mkdir -p var/inbox var/outbox var/state
	@$(DEBUG_BIN) users list --state var | grep -q . || $(DEBUG_BIN) users add admin --role admin --state var </dev/null
	@echo "review console: http://127.0.0.1:8080/ (user admin; the password is printed above, once)"
	@$(DEBUG_BIN) console --rules rules --state var & console=$$!; trap "kill $$console 2>/dev/null" EXIT INT TERM; \
	  $(DEBUG_BIN) run --rules rules --state var $(RUN_ARGS)

# Sustained posts/s and rename-to-action-file latency (burst of BENCH_POSTS, then a fixed
# BENCH_RATE posts/s), peak RSS. Durable writes on. Figures in docs/DAEMON.md.
BENCH_POSTS ?= 100000
BENCH_RATE  ?= 2000
bench-daemon: release
	python3 scripts/bench-daemon.py --warden $(RELEASE_BIN) --posts $(BENCH_POSTS) --rate $(BENCH_RATE)

# ---------------------------------------------------------------------------------------
# Reliability targets (owned by the crash/soak work; see docs/RELIABILITY.md).

.PHONY: chaos soak

# Crash test: CHAOS_KILLS SIGKILLs at random instants of the release daemon, then the
# DESIGN.md invariant and equality with an uninterrupted run over the same posts.
CHAOS_KILLS ?= 1000
CHAOS_ARGS  ?=
chaos: release
	python3 scripts/chaos.py --warden $(RELEASE_BIN) --kills $(CHAOS_KILLS) $(CHAOS_ARGS)

# Soak: SOAK_MINUTES at SOAK_RATE posts/s with a rules reload every 30 s; RSS, open fds and
# latency every 10 s, posts lost at the end.
SOAK_MINUTES ?= 10
SOAK_RATE    ?= 2000
SOAK_ARGS    ?=
soak: release
	python3 scripts/soak.py --warden $(RELEASE_BIN) --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) $(SOAK_ARGS)

# ---------------------------------------------------------------------------------------
# Review console targets (see docs/CONSOLE.md).

.PHONY: browser-deps browser-test bench-console

# Debian's chromium and chromedriver, and selenium from PyPI, installed when missing.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "make: installing chromium chromium-driver"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@python3 -c "import selenium" 2>/dev/null || { echo "make: installing selenium"; python3 -m pip install -q selenium; }

# The console in a real browser against a real daemon; screenshots in BROWSER_OUT.
BROWSER_OUT ?= .build/browser-test
browser-test: deps browser-deps
	$(SWIFT) build --build-tests
	WARDEN_BIN=$(CURDIR)/$(DEBUG_BIN) python3 Tests/Browser/console_test.py --out $(BROWSER_OUT)

# Queue page and action latency under 20 sessions with 10,000 held and 1,000,000 past
# decisions; the daemon's posts/s with and without that load. Figures in docs/CONSOLE.md.
bench-console: release
	python3 scripts/bench-console.py --warden $(RELEASE_BIN)

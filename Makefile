# palier — the two set-up commands of the README, and a few helpers.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

# Where `make run` keeps the node, and the building name it is initialised with.
PALIER_DIR ?= .palier
NAME ?= Mon immeuble

.PHONY: setup build run test fuzz bench clean-node deb

setup:
	@scripts/setup.sh

build: setup
	swift build --product palier

# Runs a building node on its embedded default: initialises $(PALIER_DIR) on first use
# (building key, SQLite store, profile), then runs it until Ctrl-C.
run: build
	.build/debug/palier init --if-needed --name "$(NAME)" --data-dir "$(PALIER_DIR)"
	.build/debug/palier run --data-dir "$(PALIER_DIR)"

# Tests with wall-clock deadlines (a post must reach the other node within 1 s) run in a second
# phase of their own, so that nothing else on the machine's two cores can starve them; tests that
# run whole nodes as processes or as another Unix user in a third; real Chromium on the kiosk page
# (seconds of full CPU per page) in a fourth, one browser at a time; the discovery lab
# (avahi-daemons in network namespaces, a restart timed against a goal) in a fifth; the onion
# lab (a private Tor network in namespaces, buildings behind NATs, under .build/tor-labs/) in a
# sixth; the Debian package (a release build, installed and run in a debootstrap root cached
# under .build/) in a seventh.
LIVE_TESTS := LiveSyncTests|InMemoryTransportTests|NodeRuntimeTests|IdleNodeTests|FederationProcessTests|SameKeyTests|MetricsTests|SystemLayoutTests|OnionNodeTests|OnionPathTests|OnionTransportTests
PROCESS_TESTS := LiveProcessTests|ImageProcessTests|FeedCommandTests|HostileEnvelopeProcessTests|ResidentChannelTests|ResidentImageTests|ResidentProcessTests
SCREEN_TESTS := KioskBrowserTests|KioskLayoutTests|KioskMediaTests
LAB_TESTS := DiscoveryLabTests
ONION_TESTS := OnionLabTests
DEB_TESTS := DebianPackageTests

# The whole test suite: unit, property, known-answer, simulation, then CLI and live tests, then
# the kiosk page in Chromium, then the discovery lab, the onion lab and the Debian package (each
# skipped, saying why, without root), then every fuzz target for a fixed
# number of runs (scripts/fuzz.sh: any crash, leak or timeout fails, with the input in hex).
test:
	@scripts/setup.sh --tests
	swift build --build-tests
	swift test --skip-build --skip '$(LIVE_TESTS)|$(PROCESS_TESTS)|$(SCREEN_TESTS)|$(LAB_TESTS)|$(ONION_TESTS)|$(DEB_TESTS)'
	swift test --skip-build --filter '$(LIVE_TESTS)'
	swift test --skip-build --filter '$(PROCESS_TESTS)'
	swift test --skip-build --no-parallel --filter '$(SCREEN_TESTS)'
	swift test --skip-build --filter '$(LAB_TESTS)'
	swift test --skip-build --filter '$(ONION_TESTS)'
	swift test --skip-build --filter '$(DEB_TESTS)'
	scripts/fuzz.sh

# The Debian package, .build/deb/palier_<version>_<arch>.deb: a release build with the Swift
# runtime linked in, the systemd units, maintainer scripts, man page and completions.
deb:
	@scripts/setup.sh --deb
	@scripts/build-deb.sh

# A longer fuzzing campaign: `make fuzz RUNS=100000000` (every target), or
# `make fuzz RUNS=100000000 TARGETS=FuzzEnvelope`. The corpus grows in .build/fuzz-corpus/.
fuzz: setup
	RUNS=$(RUNS) scripts/fuzz.sh $(TARGETS)

bench: setup
	swift run -c release palier-bench ingest
	swift run -c release palier-bench reconcile
	swift run -c release palier-bench propagate

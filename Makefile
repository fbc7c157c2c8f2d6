# palier — the two set-up commands of the README, and a few helpers.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

# Where `make run` keeps the node, and the building name it is initialised with.
PALIER_DIR ?= .palier
NAME ?= Mon immeuble

.PHONY: setup build run test bench clean-node

setup:
	@scripts/setup.sh

build: setup
	swift build --product palier

# Runs a building node on its embedded default: initialises $(PALIER_DIR) on first use
# (building key, SQLite store, profile), then runs it until Ctrl-C.
run: build
	.build/debug/palier init --if-needed --name "$(NAME)" --data-dir "$(PALIER_DIR)"
	.build/debug/palier run --data-dir "$(PALIER_DIR)"

# The whole test suite (unit, property, known-answer, CLI and live-process tests).
test:
	@scripts/setup.sh --tests
	swift build --build-tests
	swift test --skip-build

bench: setup
	swift run -c release palier-bench ingest

# drht — the README's two commands are `make run` and `make test`.
SWIFT ?= swift
BIN := .build/release/drht

.PHONY: run test build deps bench clean photos

# Install missing apt packages, build in release mode, start the main job: the REPL at a
# terminal; without one (CI, a pipe) lesson 1 runs from start to end instead.
run: build
	@if [ -t 0 ] && [ -t 1 ]; then $(BIN); else $(BIN) lesson 1; fi

# Install missing apt packages, then run the whole test suite.
test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing --disable-swift-testing

build: deps
	$(SWIFT) build -c release

deps:
	@bash scripts/install-deps.sh

# Real photos for training and evaluation from Debian packages (see scripts/photos.sh).
photos:
	@bash scripts/photos.sh

bench: build
	$(BIN) bench

clean:
	rm -rf .build

# drht — the README's two commands are `make run` and `make test`.
SWIFT ?= swift
BIN := .build/release/drht
# The vector extensions the compute targets are compiled for: this machine's (Package.swift).
DRHT_TARGET_CPU ?= $(shell bash scripts/target-cpu.sh)
export DRHT_TARGET_CPU

.PHONY: run test test-python test-torch test-jupyter torch-deps jupyter fixture build deps bench bench-compare clean photos fuzz

# Install missing apt packages, build in release mode, start the main job: the REPL at a
# terminal; without one (CI, a pipe) lesson 1 runs from start to end instead.
run: build
	@if [ -t 0 ] && [ -t 1 ]; then $(BIN); else $(BIN) lesson 1; fi

# Install missing apt packages, then run the whole test suite.
test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing --disable-swift-testing

# Every Python-side test (CI runs it): the PyTorch trainer's and the Jupyter kernel's.
test-python: test-torch test-jupyter

# The PyTorch trainer's tests (pytorch/tests): Debian's python3-torch and a virtual environment
# pytorch/.venv with pytorch/requirements.txt; the round-trip test runs the release drht
# (the one `make test` built, else `make build`).
test-torch: torch-deps
	@test -x $(BIN) || $(MAKE) build
	pytorch/.venv/bin/python -m unittest discover -s pytorch/tests -v

torch-deps:
	@bash scripts/install-torch-deps.sh

# drht in Jupyter: Debian's Jupyter packages (scripts/install-jupyter-deps.sh), the release
# build, and the `drht` kernel registered for this user (~/.local/share/jupyter/kernels/drht).
jupyter:
	@bash scripts/install-jupyter-deps.sh --notebook
	@$(MAKE) --no-print-directory build
	/usr/bin/python3 jupyter/install_kernel.py --user

# The kernel driven through jupyter_client, and every lesson run through it as a notebook.
test-jupyter:
	@bash scripts/install-jupyter-deps.sh
	@test -x $(BIN) || $(MAKE) build
	/usr/bin/python3 -m unittest discover -s jupyter/tests -v

# Rewrite the PyTorch parity fixture the Swift tests read (Tests/DRHTModelTests/Fixtures).
fixture: torch-deps
	pytorch/.venv/bin/python pytorch/make_fixture.py $(if $(wildcard ../shared/fixtures/drht-reference.safetensors),--check-shared ../shared/fixtures/drht-reference.safetensors)

build: deps
	$(SWIFT) build -c release

deps:
	@bash scripts/install-deps.sh

# Robustness: 2,000 mutated files of each format, 2,000 random REPL lines and 2,000 odd image x
# command pairs through drht, each in its own process (`drht fuzz`; `make test` runs 200 files
# of each format, 200 lines and 40 odd pairs, and the whole odd-image matrix). Prints the
# table; failing cases are saved with a README under fuzz-failures/.
fuzz: build
	$(BIN) fuzz --cases 2000 --lines 2000 --odd 2000 --out fuzz-failures

# Real photos for training and evaluation from Debian packages (see scripts/photos.sh).
photos:
	@bash scripts/photos.sh

bench: build
	$(BIN) bench

# drht beside PyTorch 2.x (training step) and onnxruntime (inference) on this machine, 3
# interleaved rounds (scripts/bench-compare.sh; its references go to .venv-bench). Run it on a
# quiet machine.
bench-compare: build
	@bash scripts/install-bench-deps.sh
	bash scripts/bench-compare.sh

clean:
	rm -rf .build

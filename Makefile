# Thin wrapper over meson (the build's single source of truth). See README.md.
#   make        build          make test   deps + build + every test
#   make demo   deps + build + synth/run/auc on generated data
#   make bench  microbenchmarks     make deps   install missing Debian packages
#   make fuzz   every fuzz target for FUZZ_SECONDS (default 60)   make test-sanitize  ASan+UBSan unit suite
BUILD   ?= build
PYTHON  ?= /usr/bin/python3
JOBS    ?= 2
DEMO    ?= demo-data
FUZZ_SECONDS ?= 60

.PHONY: all build deps test demo bench clean fuzz test-sanitize

all: build

# Debian packages the build, tests and benchmarks need; installs only what is missing.
# (libopenblas0-pthread: PyTorch's fp32 Linear, the benchmark peer, would otherwise use the reference BLAS.)
DEB_PACKAGES = meson ninja-build g++ pkg-config libxsimd-dev doctest-dev libbenchmark-dev \
  libcli11-dev libdnnl-dev nlohmann-json3-dev zlib1g-dev python3-numpy python3-sklearn python3-torch python3-xxhash libopenblas0-pthread \
  g++-aarch64-linux-gnu qemu-user clang libclang-rt-14-dev
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	else echo "make deps: all packages present"; fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

test: deps build
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash tests/run_all.sh

demo: deps build
	PYTHON=$(PYTHON) BUILD=$(BUILD) DEMO=$(DEMO) bash tools/demo.sh

bench: deps build
	BUILD=$(BUILD) bash bench/run_all.sh

# libFuzzer targets (tests/fuzz/README.md): built with clang into build-fuzz, each run FUZZ_SECONDS.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(JOBS) bash tests/fuzz/run.sh

# The unit suite under ASan + UBSan, in its own build dir build-asan.
test-sanitize: deps
	JOBS=$(JOBS) bash tests/suites/sanitize.sh

clean:
	rm -rf $(BUILD)

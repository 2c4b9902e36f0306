# Thin wrapper over meson (the build's single source of truth). See README.md.
#   make        build          make test   deps + build + every test
#   make demo   deps + build + synth/run/auc on generated data
#   make bench  microbenchmarks     make deps   install missing Debian packages
BUILD   ?= build
PYTHON  ?= /usr/bin/python3
JOBS    ?= 2
DEMO    ?= demo-data

.PHONY: all build deps test demo bench clean

all: build

# Debian packages the build, tests and benchmarks need; installs only what is missing.
DEB_PACKAGES = meson ninja-build g++ pkg-config libxsimd-dev doctest-dev libbenchmark-dev \
  libcli11-dev nlohmann-json3-dev python3-numpy python3-sklearn python3-torch python3-xxhash
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

clean:
	rm -rf $(BUILD)

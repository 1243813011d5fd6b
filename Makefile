# zabd: two commands for users, `make run` and `make test`. Everything else
# (dependency install, cmake configure, build) happens underneath them.
# The real build lives in CMakeLists.txt; this file only delegates.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PY         := /usr/bin/python3

.PHONY: all run test deps build asan fuzz unit it tidy sim bench clean

all: build

# Debian packages the build and the tests need. Installed only when missing.
DEB_PKGS := cmake make gcc clang pkg-config libuv1-dev zlib1g-dev libssl-dev \
            libcmocka-dev python3-kazoo python3-pytest libzookeeper-mt-dev zookeeper zookeeper-bin
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DZABD_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# clang build: -Werror on the second compiler, and the libFuzzer targets
# (tests/fuzz) whose seed corpora ctest replays.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -R fuzz

run: build
	mkdir -p data
	./$(BUILD)/zabd

# unit + simulation tests (ctest), integration tests (pytest on real processes),
# then the unit suite again under AddressSanitizer/UBSan.
test: build asan fuzz
	tools/tidy.sh
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	ZABD_BIN=$(CURDIR)/$(BUILD)/zabd ZABD_BUILD=$(CURDIR)/$(BUILD) $(PY) -m pytest -q -p no:cacheprovider tests/it
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)
	ZABD_BIN=$(CURDIR)/$(ASAN_BUILD)/zabd ZABD_BUILD=$(CURDIR)/$(ASAN_BUILD) ZABD_ASAN=1 $(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests/it

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

it: build
	ZABD_BIN=$(CURDIR)/$(BUILD)/zabd ZABD_BUILD=$(CURDIR)/$(BUILD) $(PY) -m pytest -q -p no:cacheprovider tests/it

tidy:
	tools/tidy.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# Long campaigns, outside `make test`.
#   make sim SEEDS=100000   swarm campaign over seeds 1..N
#   make sim SEED=N         replay one seed with a full trace
sim: build
	ZABD_BUILD=$(CURDIR)/$(BUILD) SEEDS="$(SEEDS)" SEED="$(SEED)" tests/sim/run.sh

# Side-by-side benchmark against Java ZooKeeper (QUICK=1 for a short run).
bench: build
	ZABD_BUILD=$(CURDIR)/$(BUILD) QUICK="$(QUICK)" bench/compare

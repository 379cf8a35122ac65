# The front door. CMake does the building; these targets are the commands the
# README promises. Build trees: build/ (default), build-asan/ (SANITIZE=1),
# build-cuda/ (make cuda), build-fuzz/ (make fuzz).
JOBS     ?= $(shell nproc)
CUDA     ?= OFF
SANITIZE ?= 0
CMAKE    ?= cmake

ifeq ($(SANITIZE),1)
BUILD       := build-asan
CMAKE_FLAGS := -DALIGNERS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALIGNERS_CUDA=OFF
else
BUILD       := build
CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DALIGNERS_CUDA=$(CUDA)
endif

.PHONY: all build test run cuda bench fuzz clean deps

all: build

deps:
	@tools/deps.sh

$(BUILD)/CMakeCache.txt:
	@test -f /usr/include/doctest/doctest.h || tools/deps.sh
	$(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1500
	@grep -h '^\[doctest\] \(test cases\|assertions\|Status\)' $(BUILD)/Testing/Temporary/LastTest.log || true

run: build
	./$(BUILD)/aligners demo --out runs/demo

cuda:
	$(CMAKE) -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DALIGNERS_CUDA=ON -DALIGNERS_TESTS=OFF
	$(CMAKE) --build build-cuda -j $(JOBS)

bench: build
	tools/bench/run_all.sh $(BUILD)

fuzz:
	@tools/deps.sh fuzz
	$(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	    -DALIGNERS_FUZZ=ON -DALIGNERS_TESTS=OFF -DALIGNERS_CUDA=OFF
	$(CMAKE) --build build-fuzz -j $(JOBS)
	tools/run_fuzz.sh build-fuzz $(or $(FUZZ_SECONDS),60)

clean:
	rm -rf build build-asan build-cuda build-fuzz

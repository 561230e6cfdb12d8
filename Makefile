# The two commands of README.md: `make demo` and `make test`. Both set up, build, then run.
BUILD      ?= build
BUILD_SAN  ?= build-sanitize
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
# ccache may reuse objects built with the torch precompiled header only with these.
export CCACHE_SLOPPINESS ?= pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: demo test setup build build-sanitize test-sanitize test-fast format format-check clean

demo: build
	scripts/demo $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 900

setup:
	scripts/setup

build: setup
	test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD) -j$(JOBS)

# The torch-free libraries (core, search, peft spec, studies) and their tests under
# AddressSanitizer + UndefinedBehaviorSanitizer.
build-sanitize: setup
	cmake -S . -B $(BUILD_SAN) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Debug \
	  -DAUTOPEFT_WITH_TORCH=OFF -DAUTOPEFT_SANITIZE=address,undefined
	cmake --build $(BUILD_SAN) -j$(JOBS)

test-sanitize: build-sanitize
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS) --timeout 900

# Unit tests only (no integration, slow or gpu label): the quick loop while editing.
test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L unit

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(BUILD_SAN)

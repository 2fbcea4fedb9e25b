# Thin wrapper over Meson. `make check` is what CI runs.
#   build/       gcc, -Werror, tests run here
#   build-asan/  clang, -Werror, ASan+UBSan, tests run here too
#   build-tsan/  clang, ThreadSanitizer, the server suite runs here
#   build-rel/   gcc -O2 release, for `make bench`
MESON ?= meson
NINJA ?= ninja

.PHONY: all deps check check-gcc check-asan check-tsan bench demo fuzz install clean

all: build/build.ninja
	$(NINJA) -C build

deps:
	@scripts/install-deps.sh

build/build.ninja:
	CC=gcc $(MESON) setup build

build-asan/build.ninja:
	CC=clang $(MESON) setup build-asan -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dbench=false

build-tsan/build.ninja:
	CC=clang $(MESON) setup build-tsan -Db_sanitize=thread -Db_lundef=false \
	  -Dbench=false

build-rel/build.ninja:
	CC=gcc $(MESON) setup build-rel --buildtype=release

check: deps
	$(MAKE) check-gcc
	$(MAKE) check-asan
	$(MAKE) check-tsan

check-gcc: build/build.ninja
	$(NINJA) -C build
	$(MESON) test -C build --print-errorlogs

check-asan: build-asan/build.ninja
	$(NINJA) -C build-asan
	$(MESON) test -C build-asan --print-errorlogs

# Only what the server suite runs is built under TSan, to keep CI short.
check-tsan: build-tsan/build.ninja
	$(NINJA) -C build-tsan $$($(NINJA) -C build-tsan -t targets all | \
	  sed -n 's/^\(tests\/server\/test-[a-z]*\|examples\/[a-z-]*\): .*LINKER.*/\1/p')
	$(MESON) test -C build-tsan --no-rebuild --suite server --print-errorlogs

bench: deps build-rel/build.ninja
	$(NINJA) -C build-rel
	scripts/run-bench.sh build-rel

fuzz: deps
	test -f build-fuzz/build.ninja || CC=clang $(MESON) setup build-fuzz \
	  -Dfuzzing=true -Dbench=false -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link
	$(NINJA) -C build-fuzz

demo: deps all
	scripts/demo.sh build

install: all
	$(MESON) install -C build

clean:
	rm -rf build build-asan build-tsan build-rel build-fuzz

# Two commands on a fresh machine: `make run` starts the gateway on its defaults, `make test` runs the tests.
# Both install the system libraries first when they are missing (Debian/Ubuntu).
SYSTEM_PACKAGES := libssl-dev libpcre2-dev zlib1g-dev libpoppler-glib-dev libtesseract-dev tesseract-ocr-eng
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?= gateway.yaml

.PHONY: deps build release run test acceptance clean

deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; $(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

run: release
	.build/release/gatewayd --config $(CONFIG)

test: deps
	swift test

acceptance: deps
	scripts/acceptance

clean:
	rm -rf .build

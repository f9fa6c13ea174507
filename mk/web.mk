# Web application targets (included by the top-level Makefile).
#
#   make test-web    only the browser tests (tests/web/, playwright-core and
#                    Debian's chromium against a real node); `make test` runs
#                    them too, as the Criterion test web::browser
#                    (tests/web/test_web.c)
#   make web-vendor  npm ci in web/ and copy the pinned browser builds into
#                    web/vendor/ (scripts/deps.sh does this once)

.PHONY: test-web web-vendor

test-web: $(BIN)
	MEDCHAIN_BIN=$(abspath $(BIN)) node --test --test-reporter=spec tests/web/

web-vendor:
	cd web && npm ci --no-audit --no-fund && node vendor.mjs && cp package-lock.json node_modules/.medchain-lock.json

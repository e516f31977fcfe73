# Two commands for a fresh machine (see README): `make up` runs the site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := kernel services/registry services/polls services/counter services/gateway services/deployer services/sync services/drafts
STAMP := $(VENV)/.installed

.PHONY: up test bench proto install clean

install: $(STAMP)

# Reinstall whenever a project's metadata changes; pins live in those files and constraints.txt.
$(STAMP): pyproject.toml constraints.txt $(addsuffix /pyproject.toml,$(PACKAGES)) $(wildcard kernel/csrc/native/*) \
		kernel/csrc/sqlite_frames.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e 'kernel[service]' $(addprefix -e ,$(filter-out kernel,$(PACKAGES))) -e '.[test]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/civitas up

test: $(STAMP)
	$(BIN)/python -m pytest -n auto $(if $(SKIP_SLOW),--skip-slow)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Regenerate the Python code of proto/ (tests fail when it is stale).
proto: $(STAMP)
	$(BIN)/python -m civitas_kernel.schema_codegen

clean:
	rm -rf $(VENV)

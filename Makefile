# specc: every target creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: run test test-slow lint format golden generated schema docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job on the blog spec: validate, layer table, build the Keras model, emit its script.
run: $(STAMP)
	$(BIN)/specc validate specs
	$(BIN)/specc summary specs/mnist_cnn.yaml
	$(BIN)/specc build specs/mnist_cnn.yaml
	$(BIN)/specc emit-code specs

## Lint, check the import floors (pyproject: tool.importlinter), type-check (tool.mypy), validate the example specs, then the test suite (slow trainings excluded).
test: $(STAMP)
	$(BIN)/ruff check compiler tests bench generated
	$(BIN)/ruff format --check compiler tests bench generated
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/specc validate specs
	$(BIN)/specc emit-code --check specs
	$(BIN)/python -m pytest -q -n 2 --durations=25

## The full trainings and long property runs.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check compiler tests bench

format: $(STAMP)
	$(BIN)/ruff format compiler tests bench
	$(BIN)/ruff check --fix compiler tests bench

## Regenerate the golden files of emitted code (after reading why they changed).
golden: $(STAMP)
	$(BIN)/specc emit-code tests/golden/specs -o tests/golden/expected

## Regenerate generated/ from specs/ (CI fails while it is stale).
generated: $(STAMP)
	$(BIN)/specc emit-code specs

## Regenerate the checked-in JSON Schema.
schema: $(STAMP)
	$(BIN)/specc schema -o specc.schema.json

## Regenerate the spec reference (docs/reference.md) and build the site into build/site.
docs: $(STAMP)
	$(BIN)/specc reference -o docs/reference.md
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python bench/validate_speed.py
	$(BIN)/python bench/graph_speed.py
	$(BIN)/python bench/diagram_speed.py
	$(BIN)/python bench/adversarial_speed.py
	$(BIN)/python bench/applications_speed.py
	$(BIN)/python bench/import_speed.py

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .ruff_cache

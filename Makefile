# Two targets do all set-up on a fresh machine: `make demo` runs the main job, `make test` the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint train evaluate bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -c "import torch, torchvision, cv2, scipy"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m app demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

train: $(STAMP)
	$(PY) -m models.train
	$(PY) -m models.quantize

evaluate: $(STAMP)
	$(PY) -m models.evaluate

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

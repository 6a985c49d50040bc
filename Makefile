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
	$(PY) -c "import torch, cv2, scipy"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m app demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

# A classifier candidate, on 2 CPU cores (bf16): a 4x wider teacher, a student distilled from it (a fine-tune of the
# shipped weights), its int8 twin and the class prior of video where that generalises; then its figures. Each step
# resumes where a cut run stopped. It writes out/student/final.pt; the shipped weights change only by hand, when
# the candidate reads the real clips better (models/weights/MODEL_CARD.md).
CANDIDATE := out/student/final.pt
train: $(STAMP)
	$(PY) -m models.train --run-dir out/teacher --widths 64 128 256 512 --epochs 8 --resume --out out/teacher/final.pt
	$(PY) -m models.train --run-dir out/student --teacher out/teacher/final.pt --init models/weights/emonet.pt \
		--epochs 6 --resume --out $(CANDIDATE)
	$(PY) -m models.quantize --weights $(CANDIDATE)
	$(PY) -m models.prior --weights $(CANDIDATE)
	$(PY) -m models.evaluate --weights $(CANDIDATE)

evaluate: $(STAMP)
	$(PY) -m models.evaluate

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

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

# The shipped classifier's recipe (v3), on 2 CPU cores (bf16): the v2 weights fine-tuned on FER2013 and the wild
# stills, averaged in weight space with the v2 weights (WiSE-FT), its int8 twin and the class prior of video where
# that generalises; then its figures. Each step resumes where a cut run stopped. It writes out/wise/final.pt; the
# shipped weights change only by hand, when the candidate reads the real clips better (models/weights/MODEL_CARD.md).
CANDIDATE := out/wise/final.pt
# The commit that shipped the v2 weights the v3 recipe starts from (no comment on the line: make keeps its spaces).
BASE_COMMIT := 3230163
train: $(STAMP)
	mkdir -p out && git show $(BASE_COMMIT):models/weights/emonet.pt > out/base-v2.pt
	$(PY) -m models.training.train --run-dir out/finetune --init out/base-v2.pt --epochs 6 --vote-weight 0 --resume \
		--out out/finetune/final.pt
	$(PY) -m models.training.interpolate --base out/base-v2.pt --tuned out/finetune/final.pt --out $(CANDIDATE)
	$(PY) -m models.training.quantize --weights $(CANDIDATE)
	$(PY) -m models.training.prior --weights $(CANDIDATE)
	$(PY) -m models.training.evaluate --weights $(CANDIDATE)

evaluate: $(STAMP)
	$(PY) -m models.training.evaluate

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

# sse-driver: `make demo` runs the default job, `make test` runs the test suite.
# Both create .venv (Python >= 3.12, found by .ci/find-python) and install the pinned
# set from requirements.lock once; a second call reinstalls nothing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= runs/demo

.PHONY: demo test doctor lock clean-venv mlip
demo: $(STAMP)
	$(VENV)/bin/sse-driver demo --out $(OUT)

test: $(STAMP)
	@.ci/slurm-local install || echo "note: the Slurm tests will be skipped (see above)"
	$(PY) -m pytest -q -ra --durations=30 tests

# Optional: the ML potential (potentials/sevennet0.yaml). About 6 GB (torch with its CUDA
# libraries from PyPI, also on machines without a GPU); the base pins stay as they are.
mlip: $(VENV)/.mlip
$(VENV)/.mlip: $(STAMP) requirements-mlip.lock
	$(PY) -m pip install --disable-pip-version-check -q -c requirements.lock -r requirements-mlip.lock
	@touch $(VENV)/.mlip

doctor: $(STAMP)
	$(VENV)/bin/sse-driver doctor

$(PY):
	@py=$$(.ci/find-python) || exit 1; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV)

$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Re-pin after changing dependencies in pyproject.toml (review the diff before committing).
lock: $(PY)
	$(PY) -m pip install -q -e '.[test]' pdfplumber openpyxl networkx
	$(PY) -m pip freeze --exclude-editable | grep -v '^sse-driver' > requirements.lock.new
	@echo "wrote requirements.lock.new; compare and move it over requirements.lock"

clean-venv:
	rm -rf $(VENV)

# Every target creates .venv if missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab classroom lint bench soak notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paxos-edu demo

test: $(STAMP)
	$(BIN)/python -m pytest --nbval tests $(wildcard notebooks/*.ipynb)

# JupyterLab on notebooks/ through `paxos-edu lab`, which gives it the lessons' settings
# overrides (paxos_edu/jupyter-settings: no news pop-up; Binder's postBuild installs them).
lab: $(STAMP)
	$(BIN)/paxos-edu lab notebooks

# The dashboard for a projector: Voila serves the notebook with its code hidden.
classroom: $(STAMP)
	$(BIN)/paxos-edu classroom notebooks --no-browser

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Real processes under a CPU the script saturates, then 10^4 simulator schedules (<= 30 min).
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py
	$(BIN)/python benchmarks/sim_schedules.py

# Re-run every lesson in a fresh kernel and store its outputs (without run timestamps).
notebooks: $(STAMP)
	$(BIN)/python docs/run_notebooks.py

clean:
	rm -rf $(VENV) build *.egg-info

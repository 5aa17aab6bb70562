# One task runner for the habits: `make demo`, `make test`, `make lint`, `make bench`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test lint format bench bench-quick bench-trajectory bench-portfolio bench-mapping bench-map-resume clean bench-experiments bench-web

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: build the demo missions from ../shared/data into missionkit.sqlite and serve them
demo: $(STAMP)
	$(BIN)/missionkit demo

serve: $(STAMP)
	$(BIN)/missionkit serve

## test: the whole suite, on SQLite and on PostgreSQL (127.0.0.1:5432, database test)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## bench: bulk import of 100,000 activities (SQLite, PostgreSQL) and mission-map latency
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

## bench-mapping: 10,000 texts to the SDGs (keyword, embedding, combined) vs a one-at-a-time loop
bench-mapping: $(STAMP)
	$(BIN)/python benchmarks/bench_mapping.py

## bench-map-resume: `missionkit map` on 1,000,000 texts, killed at 40 % and resumed, checked
bench-map-resume: $(STAMP)
	$(BIN)/python benchmarks/bench_map_resume.py

## bench-portfolio: the portfolio engine at 10k/100k/1M activities against a pandas twin
bench-portfolio: $(STAMP)
	$(BIN)/python benchmarks/bench_portfolio.py

## bench-web: cockpit and explorer page latency for a 10,000-activity mission (SQLite, PostgreSQL)
bench-web: $(STAMP)
	$(BIN)/python benchmarks/bench_web.py

## bench-trajectory: 1,000,000 indicator series assessed, vectorised vs a per-series loop
bench-trajectory: $(STAMP)
	$(BIN)/python benchmarks/bench_trajectory.py

## bench-experiments: difference-in-differences at 1k/10k/50k units against pandas and linearmodels
bench-experiments: $(STAMP)
	$(BIN)/python benchmarks/bench_experiments.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache missionkit.sqlite*

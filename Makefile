# Every target refreshes .venv so it works on a fresh machine with only Python 3.11+ and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test check lint typecheck bench install clean eval-local

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/copilot serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Optional: τ²-style simulation against a local llama.cpp-compatible server (e.g. `llama-server -m model.gguf
# --port 8080`, or vLLM / Ollama), which plays both the customer and the copilot. Not part of `make test`.
LOCAL_LLM_URL ?= http://127.0.0.1:8080/v1
LOCAL_LLM_MODEL ?= local
EVAL_TASKS ?= ../shared/data/tau2-retail/tasks_train.json
EVAL_TRIALS ?= 1
EVAL_LIMIT ?= 5
eval-local: $(STAMP)
	$(BIN)/copilot eval conversations $(EVAL_TASKS) --trials $(EVAL_TRIALS) --limit $(EVAL_LIMIT) \
	  --user-model openai:$(LOCAL_LLM_MODEL) --user-base-url $(LOCAL_LLM_URL) \
	  --model openai:$(LOCAL_LLM_MODEL) --model-base-url $(LOCAL_LLM_URL)

clean:
	rm -rf $(VENV) .copilot .pytest_cache .mypy_cache .ruff_cache

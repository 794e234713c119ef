# The two commands of the README, plus the pieces they are made of.
#   make demo   set up, then the embedded CPU demo: synthetic COCO -> train -> test -> COCO AP
#   make test   set up, then the whole test suite
#   make test-fast   the development loop: every test not marked slow (tests/conftest.py)
PY := .venv/bin/python

.PHONY: install demo test test-fast benchmark

install:
	bash tools/install.sh

demo: install
	$(PY) tools/demo/run_demo.py

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

benchmark: install
	$(PY) tools/analysis/benchmark_kan_conv.py
	$(PY) tools/analysis/benchmark.py

# The two commands of the README, plus the pieces they are made of.
#   make demo   set up, then the embedded CPU demo: synthetic COCO -> train -> test -> COCO AP
#   make test   set up, then the whole test suite
PY := .venv/bin/python

.PHONY: install demo test benchmark

install:
	bash tools/install.sh

demo: install
	$(PY) tools/demo/run_demo.py

test: install
	$(PY) -m pytest

benchmark: install
	$(PY) tools/analysis/benchmark_kan_conv.py
	$(PY) tools/analysis/benchmark.py

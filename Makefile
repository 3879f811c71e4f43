# The two commands a new user needs: `make demo` (the main job on the embedded lab) and `make test` (the suite).
.PHONY: demo test test-slow test-explore setup bench lab-down clean

demo:
	@bash scripts/setup.sh
	@.venv/bin/fillpath demo

test:
	@bash scripts/test.sh

test-slow:
	@bash scripts/setup.sh
	@.venv/bin/pytest -q -m slow

# the property tests with fresh hypothesis examples (the default suite replays the same ones every run)
test-explore:
	@HYPOTHESIS_PROFILE=explore bash scripts/test.sh

setup:
	@bash scripts/setup.sh

bench:
	@bash scripts/setup.sh
	@for b in benchmarks/bench_*.py; do PYTHONPATH=.:src .venv/bin/python $$b || exit 1; done

lab-down:
	@.venv/bin/fillpath lab down

clean:
	rm -rf .venv tools/node_modules out cache

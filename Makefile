# The two commands a new user needs: `make demo` (the main job on the embedded lab) and `make test` (the suite).
.PHONY: demo test test-slow test-chaos test-explore setup bench lab-down clean

demo:
	@bash scripts/setup.sh
	@.venv/bin/fillpath demo

test:
	@bash scripts/test.sh

test-slow:
	@bash scripts/setup.sh
	@.venv/bin/pytest -q -m slow

# the deterministic simulation over thousands of seeds (`make test` runs a fixed sample); CHAOS_SEEDS=N for more
CHAOS_SEEDS ?= 3000
test-chaos:
	@bash scripts/setup.sh
	@.venv/bin/fillpath chaos run --seeds $(CHAOS_SEEDS) --jobs 2

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

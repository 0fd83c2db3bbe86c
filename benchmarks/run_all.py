"""Run every benchmark in this folder (``make bench``); each prints its own table."""

import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
names = sys.argv[1:] or sorted(p.stem for p in here.glob("bench_*.py"))
for name in names:
    print(f"\n== {name} ==", flush=True)
    runpy.run_path(str(here / f"{name}.py"), run_name="__main__")

#!/usr/bin/python3
"""Executes a notebook as `jupyter nbconvert --to notebook --execute --allow-errors` does.

Usage: execute_notebook.py IN.ipynb OUT.ipynb KERNEL_NAME CELL_TIMEOUT_S STARTUP_TIMEOUT_S

It runs nbconvert's own ExecutePreprocessor (what --execute turns on), in the notebook's folder,
with Debian's /usr/bin/python3. One difference from the command line: when the run stops early (a
cell times out, the kernel dies or does not start) the command line writes nothing, while this
writes the notebook as far as it got, and says where and why it stopped in the notebook's metadata
("gosched_run"). That matters with dotnet-interactive 1.0.712001: when an extension fails to load,
the kernel prints "Failed to load kernel extension ..." and then never answers the cell (a
NullReferenceException in its Jupyter front end), so the cell's own output is the diagnosis.
Exits 0 when a notebook was written, whatever happened in it; 2 on bad arguments.
"""
import os
import sys
import time

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor


class Executor(ExecutePreprocessor):
    """Remembers which cell runs, to say where a run stopped."""

    current_cell = None

    def preprocess_cell(self, cell, resources, index):
        self.current_cell = index
        return super().preprocess_cell(cell, resources, index)


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    source, target, kernel, cell_timeout, startup_timeout = argv[1:]
    nb = nbformat.read(source, as_version=4)
    executor = Executor(kernel_name=kernel, timeout=int(cell_timeout),
                        startup_timeout=int(startup_timeout), allow_errors=True)
    run = {"kernel": kernel, "completed": True}
    started = time.monotonic()
    try:
        executor.preprocess(nb, {"metadata": {"path": os.path.dirname(os.path.abspath(source))}})
    except Exception as e:  # the run stopped: keep what it did, say why
        run["completed"] = False
        run["stopped_at_cell"] = executor.current_cell
        run["error"] = f"{type(e).__name__}: {str(e).strip()[:2000]}"
    run["seconds"] = round(time.monotonic() - started, 1)
    nb.metadata["gosched_run"] = run
    nbformat.write(nb, target)
    print(f"execute_notebook: {source}: {'completed' if run['completed'] else 'stopped'} in {run['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""One process of a multi-process test job: runs ``kernelscale <command>`` (the CLI, in this process) and records
what the tests check: the kernel tiles this process computed (``tiles-<pid>.json``) and every spectrum it obtained
(``spectrum-<pid>-<i>.npy``: the eigenvalues of K/n, then the target powers when there are any).

Environment: ``JOB_RECORD`` (the folder for the records), ``JOB_BLOCK`` (points per tile: kernelscale's automatic
block is the whole sample for small problems), ``JOB_DIE_AFTER`` (this process exits with code 17 right after
saving that many tiles: a lost process), ``JOB_HOST_MEMORY`` (the bytes of host memory this process reports as
available), ``JOB_BREAK_EIGH`` (this process's eigendecompositions raise a KernelError).
"""

import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from kernelscale import kernels, memory
from kernelscale.cli import app
from kernelscale.errors import KernelError

# the modules: kernelscale.predict and kernelscale.spectrum are functions
predict, spectrum = importlib.import_module("kernelscale.predict"), importlib.import_module("kernelscale.spectrum")

record = Path(os.environ["JOB_RECORD"])
pid = os.environ.get("KERNELSCALE_PROCESS_ID") or os.environ["JOB_PROCESS"]  # the job's variable, or the test's
memory.MAX_BATCH_SIZE = int(os.environ.get("JOB_BLOCK", memory.MAX_BATCH_SIZE))
die_after = int(os.environ.get("JOB_DIE_AFTER", 0))
computed: list[list[int]] = []
evaluate, save = kernels.evaluate_blocks, kernels.save_atomically


def logged_evaluate(*args, **kwargs):
    for rows, cols, block in evaluate(*args, **kwargs):
        computed.append([rows.start, cols.start])
        (record / f"tiles-{pid}.json").write_text(json.dumps(computed))
        yield rows, cols, block


def saved(path, array):
    save(path, array)
    if die_after and path.name.startswith("block-") and len(computed) >= die_after:
        os._exit(17)


def recorded(solver):
    def run(*args, **kwargs):
        result = solver(*args, **kwargs)
        count = len(list(record.glob(f"spectrum-{pid}-*.npy")))
        parts = [result.eigenvalues] + ([result.target_powers] if result.target_powers is not None else [])
        np.save(record / f"spectrum-{pid}-{count}.npy", np.stack(parts))
        return result

    return run


kernels.evaluate_blocks, kernels.save_atomically = logged_evaluate, saved
if os.environ.get("JOB_BREAK_EIGH"):
    def broken(*args, **kwargs):
        raise KernelError("the eigensolver was broken on purpose")

    spectrum._whole_sample = broken
if os.environ.get("JOB_HOST_MEMORY"):
    kernels.available_host_memory = spectrum.available_host_memory = lambda: int(os.environ["JOB_HOST_MEMORY"])
predict.spectrum, predict.topk_spectrum = recorded(predict.spectrum), recorded(predict.topk_spectrum)
app(sys.argv[1:])

"""Multi-process JAX jobs on this machine: 2 processes x 2 CPU devices on a free localhost port (gloo collectives),
each running the command line (tests/job_worker.py records what each process computed), against one process."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kernelscale as ks
from kernelscale import memory
from kernelscale.distributed import job_settings
from kernelscale.errors import ParameterError
from kernelscale.kernels import tile_owners

WORKER = Path(__file__).parent / "job_worker.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class Job:
    """A finished job: each process's exit code, stdout and stderr, and what it recorded."""

    def __init__(self, record: Path, results: list[tuple[int, str, str]]):
        self.record, self.results = record, results

    def tiles(self, pid: int) -> list[tuple[int, int]]:
        path = self.record / f"tiles-{pid}.json"
        return [tuple(t) for t in json.loads(path.read_text())] if path.is_file() else []

    def spectra(self, pid: int) -> list[np.ndarray]:
        return [np.load(self.record / f"spectrum-{pid}-{i}.npy")
                for i in range(len(list(self.record.glob(f"spectrum-{pid}-*.npy"))))]


@pytest.fixture
def run_job(tmp_path):
    """``run_job(args, processes=2, devices=2, block=None, die=None, host_memory=None)``: the CLI ``args`` as a job
    of ``processes`` processes with ``devices`` CPU devices each, sharing the cache folder tmp_path/shared;
    ``die=(pid, tiles)`` makes that process exit after saving that many tiles, and then the others are stopped (as a
    lost process ends a job); ``host_memory`` is the available memory every process reports; ``env`` maps a process
    to more environment variables; ``flags`` names the job with the command line's options instead of the
    KERNELSCALE_* variables."""
    runs = iter(range(100))

    def run(args, processes=2, devices=2, block=None, die=None, host_memory=None, env=None, flags=False,
            timeout=400):
        record = tmp_path / f"record-{next(runs)}"
        record.mkdir()
        port = _free_port()
        base = {**os.environ, "KERNELSCALE_CACHE": str(tmp_path / "shared"), "JOB_RECORD": str(record),
                "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
        if not flags:
            base |= {"KERNELSCALE_COORDINATOR": f"localhost:{port}", "KERNELSCALE_NUM_PROCESSES": str(processes)}
        if block is not None:
            base["JOB_BLOCK"] = str(block)
        if host_memory is not None:
            base["JOB_HOST_MEMORY"] = str(host_memory)
        workers, extra = [], env
        for pid in range(processes):
            env = dict(base)
            if die is not None and die[0] == pid:
                env["JOB_DIE_AFTER"] = str(die[1])
            env |= (extra or {}).get(pid, {})
            job = ["--coordinator", f"localhost:{port}", "--num-processes", str(processes), "--process-id",
                   str(pid)] if flags else []
            env |= {"JOB_PROCESS": str(pid)} if flags else {"KERNELSCALE_PROCESS_ID": str(pid)}
            workers.append(subprocess.Popen([sys.executable, str(WORKER), *args, *job], env=env,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        if die is not None:
            workers[die[0]].wait(timeout=timeout)
            for worker in workers:
                worker.kill()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            results.append((worker.returncode, out, err))
        return Job(record, results)

    return run


def _prediction(job: Job) -> dict:
    (rc0, out0, err0), *others = job.results
    assert rc0 == 0, err0[-3000:]
    for rc, out, err in others:
        assert rc == 0, err[-3000:]
        assert out == ""  # only process 0 writes results and progress
        assert "eigendecomposition" not in err and "kernel" not in err
    return json.loads(out0)


FC = ["predict", "--arch", "fc:depth=2", "--data", "sphere:dim=3", "--n", "600", "--no-intrinsic-dim", "--json", "-"]


def _same_fit(data: dict, one: ks.Prediction) -> None:
    """The job's kernel fit (JSON) is the one-process fit: exponent (or its absence) and local exponents."""
    fit = one.kernel_fit
    assert data["kernel_fit"]["status"] == fit.status.value
    if fit.exponent is None:
        assert data["kernel_fit"]["exponent"] is None
    else:
        assert data["kernel_fit"]["exponent"] == pytest.approx(fit.exponent.value, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(data["kernel_fit"]["local_exponents"], fit.local_exponents, rtol=1e-10, atol=1e-12)


def _single(monkeypatch, block, **options):
    monkeypatch.setattr(memory, "MAX_BATCH_SIZE", block)
    return ks.predict(*options.pop("problem"), intrinsic=False, use_cache=False, **options)


def test_fc_predict_as_two_processes_agrees_with_one(run_job, monkeypatch):
    job = run_job(FC, block=100, host_memory=40_000_000_000, flags=True)  # over 2^31: counts travel as int64
    data = _prediction(job)
    assert data["processes"] == 2 and data["devices"] == 4
    assert data["eigensolver"] == "full" and "18.6 GiB available per process" in data["eigensolver_reason"]
    one = _single(monkeypatch, 100, problem=("fc:depth=2", "sphere:dim=3"), n_samples=600)
    _same_fit(data, one)
    # each of the 21 tiles (6 x 6 upper triangle) of each kernel (NTK, then the NNGP of the width side) computed
    # once, by the process whose device owns it
    tiles = [job.tiles(0), job.tiles(1)]
    grid = [(i, j) for i in range(0, 600, 100) for j in range(i, 600, 100)]
    owners = tile_owners(len(grid), 4)
    for pid in (0, 1):
        mine = [tile for t, tile in enumerate(grid) if owners[t] // 2 == pid]
        assert tiles[pid] == mine * 2
    for pid in (0, 1):  # every process continues with the same spectra as one process: NTK, then NNGP
        for got, want in zip(job.spectra(pid), (one.spectrum, one.width_spectrum), strict=True):
            np.testing.assert_allclose(got[0], want.eigenvalues, rtol=1e-10, atol=1e-12 * want.eigenvalues[0])


def test_cnn_gap_predict_as_two_processes_agrees_with_one(run_job, monkeypatch):
    # the NTK on both sides: on this project's CPU VM (Intel Xeon, jaxlib 0.10.2) XLA crashes on the cnn-gap NNGP
    # in a plain Python process (docs/quickstart.md, "Known problem")
    args = ["predict", "--arch", "cnn-gap:depth=1", "--data", "digits", "--n", "512", "--width-kernel", "ntk",
            "--no-intrinsic-dim", "--json", "-"]
    job = run_job(args)
    data = _prediction(job)
    one = _single(monkeypatch, memory.MAX_BATCH_SIZE, problem=("cnn-gap:depth=1", "digits"), n_samples=512,
                  width_kernel="ntk")
    assert data["n"] == 512 and data["processes"] == 2 and data["devices"] == 4
    _same_fit(data, one)
    block = int(np.sqrt(memory.MAX_BLOCK_PIXEL_ENTRIES / 64**2))  # 8 x 8 images on a CPU: the automatic tile
    tiles = job.tiles(0) + job.tiles(1)
    assert sorted(tiles) == [(i, j) for i in range(0, 512, block) for j in range(i, 512, block)]
    got = job.spectra(0)[0]
    np.testing.assert_allclose(got[0], one.spectrum.eigenvalues, rtol=1e-10, atol=1e-12 * got[0][0])
    np.testing.assert_allclose(got[1], one.spectrum.target_powers, rtol=1e-10, atol=1e-12)


def test_distributed_topk_against_numpy(run_job, monkeypatch):
    """The top-k solver over tiles kept by their processes (one sum over processes per pass): its eigenvalues match
    numpy's eigh of the whole matrix and the one-process top-k solver."""
    args = ["predict", "--arch", "fc:depth=2", "--data", "sphere:dim=3", "--n", "600", "--no-intrinsic-dim",
            "--eigensolver", "topk", "--n-eigs", "100", "--json", "-"]
    job = run_job(args, block=100)
    data = _prediction(job)
    assert data["eigensolver"] == "topk" and data["processes"] == 2
    got = job.spectra(0)[0][0]
    np.testing.assert_array_equal(got, job.spectra(1)[0][0])
    one = _single(monkeypatch, 100, problem=("fc:depth=2", "sphere:dim=3"), n_samples=600, eigensolver="topk",
                  n_eigs=100)
    np.testing.assert_allclose(got, one.spectrum.eigenvalues, rtol=1e-10, atol=1e-12 * got[0])
    x = ks.load_dataset("sphere:dim=3", n_samples=600, seed=0).x
    matrix = ks.compute_kernel("fc:depth=2", x, batch_size=100, use_cache=False).matrix
    exact = np.linalg.eigvalsh(matrix / 600)[::-1]
    np.testing.assert_allclose(got[:10], exact[:10], rtol=1e-8)


def test_a_lost_process_resumes_from_the_finished_tiles(run_job, monkeypatch, tmp_path):
    """Process 1 dies after saving 3 tiles; the job is stopped; the rerun reads every saved tile, computes each of
    the others once, and agrees with one process."""
    args = ["predict", "--arch", "fc:depth=2", "--data", "sphere:dim=3", "--n", "600", "--no-intrinsic-dim",
            "--kernel", "nngp", "--json", "-"]
    lost = run_job(args, block=100, die=(1, 3))
    assert lost.results[1][0] == 17
    (partial,) = (tmp_path / "shared").glob("kernel-*.partial-b100")
    saved = {tuple(int(v) for v in p.stem.split("-")[1:]) for p in partial.glob("block-*.npy")}
    assert set(lost.tiles(1)) <= saved and len(lost.tiles(1)) == 3
    rerun = run_job(args, block=100)
    data = _prediction(rerun)
    assert data["resumed_blocks"] == len(saved)
    computed = rerun.tiles(0) + rerun.tiles(1)
    assert len(computed) == len(set(computed)) and set(computed) | saved == {
        (i, j) for i in range(0, 600, 100) for j in range(i, 600, 100)} and not set(computed) & saved
    one = _single(monkeypatch, 100, problem=("fc:depth=2", "sphere:dim=3"), n_samples=600, kernel="nngp")
    _same_fit(data, one)
    assert not partial.exists()  # process 0 cached the whole matrix and removed the tiles


def test_the_memory_plan_counts_every_process_on_the_host(run_job):
    """Two processes on one host with 20 MB between them: the gathered route needs 5 n^2 float64 = 14.4 MB per
    process at n = 600, so auto takes the distributed top-k solver and says why; a measurement, whose kernel is
    gathered, stops with a memory error naming the host's processes."""
    job = run_job([*FC[:-2], "--kernel", "nngp"], block=100, host_memory=20_000_000)  # the table, not the JSON
    (rc0, table, _), (rc1, out1, _) = job.results
    assert rc0 == rc1 == 0 and out1 == ""
    table = " ".join(table.split())
    # the largest k whose workspace (48 bytes x n x (1.25 k + 10)) fits the 10 MB of each process
    assert "top-k eigensolver (auto:" in table and ": 269 eigenpairs from the kernel tiles the job's processes keep" \
        in table
    assert "2 of the job's 2 processes on the busiest host" in table and "in a job of 2 processes" in table
    refused = run_job(["measure", "--arch", "fc:depth=2", "--data", "sphere:dim=3,target=gp", "--n", "600",
                       "--regimes", "data"], host_memory=20_000_000)
    for rc, out, err in refused.results:
        assert rc == 2 and "per process for the gathered kernel matrix" in err and "for its 2 processes" in err


def test_measure_as_two_processes(run_job):
    args = ["measure", "--arch", "fc:depth=2", "--data", "sphere:dim=3,target=gp", "--n", "600", "--regimes", "data",
            "--repeats", "2", "--json", "-"]
    data = _prediction(run_job(args, block=200))
    one = ks.measure("fc:depth=2", "sphere:dim=3,target=gp", n_samples=600, regimes=("data",), repeats=2,
                     use_cache=False)
    assert data["processes"] == 2 and data["devices"] == 4
    np.testing.assert_allclose(data["curves"]["data"]["losses"], one.curves["data"].losses, rtol=1e-8)


def test_an_error_in_process_0s_eigendecomposition_stops_every_process(run_job):
    job = run_job(FC, block=300, env={0: {"JOB_BREAK_EIGH": "1"}})
    (rc0, _, err0), (rc1, out1, err1) = job.results
    assert rc0 == 2 and "Error: the eigensolver was broken on purpose" in err0
    assert rc1 == 2 and "process 0 stopped: the eigensolver was broken on purpose" in err1 and out1 == ""


@pytest.mark.slow
def test_four_processes(run_job, monkeypatch):
    job = run_job(FC, processes=4, devices=1, block=100)
    data = _prediction(job)
    assert data["processes"] == 4 and data["devices"] == 4
    one = _single(monkeypatch, 100, problem=("fc:depth=2", "sphere:dim=3"), n_samples=600)
    _same_fit(data, one)


def test_job_settings_from_options_and_environment():
    assert job_settings(environ={}) is None
    assert job_settings("h:1", 1, 0, environ={}) is None  # one process is no job
    settings = job_settings(environ={"KERNELSCALE_COORDINATOR": "node7:1234", "KERNELSCALE_NUM_PROCESSES": "4",
                                     "KERNELSCALE_PROCESS_ID": "3"})
    assert (settings.coordinator, settings.num_processes, settings.process_id) == ("node7:1234", 4, 3)
    assert job_settings(environ={"SLURM_STEP_NUM_TASKS": "8", "SLURM_PROCID": "2"}).auto
    assert job_settings(environ={"SLURM_STEP_NUM_TASKS": "1"}) is None
    with pytest.raises(ParameterError, match="missing: --num-processes, --process-id"):
        job_settings("h:1", environ={})
    with pytest.raises(ParameterError, match="HOST:PORT"):
        job_settings("nohost", 2, 0, environ={})
    with pytest.raises(ParameterError, match=r"\[0, 2\)"):
        job_settings("h:1", 2, 2, environ={})


def test_cli_refuses_half_a_job():
    from typer.testing import CliRunner

    from kernelscale.cli import app

    result = CliRunner().invoke(app, ["predict", "--arch", "fc", "--data", "digits", "--coordinator", "h:1"])
    assert result.exit_code == 2 and "missing: --num-processes, --process-id" in result.stderr

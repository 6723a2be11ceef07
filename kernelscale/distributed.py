"""One JAX job of several processes (``jax.distributed``): joining it, who this process is, and the collectives the
kernel stage and the top-k solver need.

A job is N copies of the same command, one per GPU or host, joined through a coordinator (process 0's
``HOST:PORT``). Every process runs the same computations in the same order (the collectives below are called by
all of them or by none); kernel tiles are assigned to global device ranks, the positions in ``jax.devices()``
(device ids are not ranks: with two processes of two CPU devices the ids are 0, 1, 2048, 2049). Outputs come from
process 0 alone. Without a job (one process) every function here is the identity or the local answer, and JAX's
distributed service is never started.

Collectives, each a jitted ``shard_map`` over a mesh of one device per process: :func:`all_gather` (``all_gather``,
in chunks; 64 MB between 2 processes on localhost took 0.16 s, against 0.22 to 0.55 s with
``multihost_utils.process_allgather``, on this project's 2-core VM) and
:func:`sum_over_processes` (one ``psum``). No ``psum_scatter``: jax issues 40830 and 40831 report it wrong or timing
out over gloo, the CPU collectives.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import sys

import jax
import numpy as np

from .errors import ParameterError

# the launcher-independent environment variables; SLURM and Open MPI are detected by JAX itself
ENVIRONMENT = {"coordinator": "KERNELSCALE_COORDINATOR", "num_processes": "KERNELSCALE_NUM_PROCESSES",
               "process_id": "KERNELSCALE_PROCESS_ID"}
# launchers whose variables JAX's own cluster detection reads (jax._src.clusters): tasks in this step
LAUNCHER_TASKS = ("SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE")
GATHER_CHUNK_BYTES = 1 << 28  # one all-gather moves at most 256 MiB per process


@dataclasses.dataclass(frozen=True)
class JobSettings:
    """How to join the job: all three given, or ``auto`` (a cluster launcher JAX detects, such as ``srun``)."""

    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    auto: bool = False


def job_settings(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None,
                 environ=os.environ) -> JobSettings | None:
    """The job to join, from the arguments, else ``KERNELSCALE_COORDINATOR`` / ``_NUM_PROCESSES`` / ``_PROCESS_ID``,
    else a launcher's step of several tasks (SLURM's ``srun``, Open MPI's ``mpirun``: JAX reads their variables);
    None for a single process. Raises ParameterError when only some of the three are given or they disagree."""
    given = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    for name, value in given.items():
        if value is None and environ.get(ENVIRONMENT[name]):
            given[name] = environ[ENVIRONMENT[name]]
    if all(value is None for value in given.values()):
        tasks = max((_integer(environ.get(name), name) for name in LAUNCHER_TASKS if environ.get(name)), default=1)
        return JobSettings(auto=True) if tasks > 1 else None
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ParameterError(f"a multi-process job needs --coordinator HOST:PORT, --num-processes N and --process-id I "
                             f"(or {', '.join(ENVIRONMENT.values())}); missing: "
                             f"{', '.join('--' + name.replace('_', '-') for name in missing)}.")
    count, index = _integer(given["num_processes"], "--num-processes"), _integer(given["process_id"], "--process-id")
    host, _, port = str(given["coordinator"]).rpartition(":")
    if not host or not port.isdigit():
        raise ParameterError(f"--coordinator must be HOST:PORT (process 0's address); got {given['coordinator']!r}.")
    if count < 1 or not 0 <= index < count:
        raise ParameterError(f"--process-id must lie in [0, --num-processes) = [0, {count}); got {index}.")
    return None if count == 1 else JobSettings(str(given["coordinator"]), count, index)


def _integer(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an integer; got {value!r}.") from None


def join_job(settings: JobSettings | None) -> None:
    """Start JAX's distributed service for ``settings`` (nothing for None, or when already joined). Must run before
    any other JAX call of the process."""
    if settings is None or jax.distributed.is_initialized():
        return
    _native_output_to_stderr()
    if settings.auto:
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(settings.coordinator, num_processes=settings.num_processes,
                                   process_id=settings.process_id)


def _native_output_to_stderr() -> None:
    """Gloo prints its connection messages on the standard output of the process (file descriptor 1): in a job,
    descriptor 1 becomes stderr, and Python's ``sys.stdout``, when it wrote to descriptor 1, keeps the original
    standard output, so that ``--json -`` stays one JSON document. (A notebook's ``sys.stdout`` is left as it is.)"""
    try:
        attached = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):  # no file behind it (io.UnsupportedOperation is an OSError)
        attached = False
    sys.stdout.flush()
    original = os.dup(1)
    os.dup2(2, 1)
    if attached:
        sys.stdout = os.fdopen(original, "w", buffering=1)
    else:
        os.close(original)


def in_job() -> bool:
    """Whether this process is one of several of a JAX job (False, without starting JAX's backends, when no job
    was joined)."""
    return jax.distributed.is_initialized() and jax.process_count() > 1


def process_index() -> int:
    return jax.process_index()


def process_count() -> int:
    return jax.process_count()


def is_output_process() -> bool:
    """Process 0 writes tables, JSON and plots; the others stay quiet."""
    return jax.process_index() == 0


def job_devices(platform: str | None) -> list[jax.Device]:
    """All devices of the job on ``platform`` (None: the default), in rank order (the position is the rank)."""
    return jax.devices(platform) if platform is not None else jax.devices()


def local_ranks(devices: list[jax.Device]) -> list[int]:
    """The ranks (positions in ``devices``) of this process's devices."""
    return [rank for rank, device in enumerate(devices) if device.process_index == jax.process_index()]


@dataclasses.dataclass
class Traffic:
    """Bytes this process handed to collectives, by kind (what the benchmark reports per top-k pass)."""

    sum_calls: int = 0
    sum_bytes: int = 0
    gather_calls: int = 0
    gather_bytes: int = 0


traffic = Traffic()


def all_gather(array: np.ndarray) -> np.ndarray:
    """Every process's ``array`` (same shape and dtype everywhere), stacked: shape (processes, *array.shape).
    Moved in chunks of at most GATHER_CHUNK_BYTES per process, each one ``all_gather`` over the processes."""
    array = np.ascontiguousarray(array)
    if not in_job():
        return array[None]
    flat = array.reshape(-1)
    step = max(1, GATHER_CHUNK_BYTES // max(1, array.itemsize))
    parts = []
    for start in range(0, max(1, flat.size), step):
        piece = flat[start:start + step]
        traffic.gather_calls += 1
        traffic.gather_bytes += piece.nbytes
        parts.append(_over_processes("gather", piece))
    return np.concatenate(parts, axis=1).reshape(jax.process_count(), *array.shape)


def sum_over_processes(array: np.ndarray) -> np.ndarray:
    """The sum of every process's float64 ``array`` (same shape everywhere): one ``psum`` over the processes. The
    identity without a job."""
    array = np.asarray(array, dtype=np.float64)
    if not in_job():
        return array
    traffic.sum_calls += 1
    traffic.sum_bytes += array.nbytes
    return _over_processes("sum", array)[0]


def _over_processes(kind: str, array: np.ndarray) -> np.ndarray:
    """One collective over a mesh of one device per process (the first of each): ``"sum"`` (``psum``, shape
    (1, *array.shape)) or ``"gather"`` (``all_gather``, shape (processes, *array.shape))."""
    mesh = _process_mesh()
    mine = mesh.devices.flat[jax.process_index()]
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("processes"))
    with jax.enable_x64(True):  # else float64 and int64 travel as 32-bit numbers
        placed = jax.make_array_from_single_device_arrays((jax.process_count(), *array.shape), sharding,
                                                          [jax.device_put(array[None], mine)])
        return np.asarray(_collective(kind)(placed).addressable_data(0))


@functools.cache
def _process_mesh() -> jax.sharding.Mesh:
    first = {}
    for device in jax.devices():
        first.setdefault(device.process_index, device)
    return jax.sharding.Mesh(np.array([first[p] for p in sorted(first)]), ("processes",))


@functools.cache
def _collective(kind: str):
    """The jitted ``shard_map`` of one collective over :func:`_process_mesh` (its output is the same everywhere)."""
    body = {"sum": lambda a: jax.lax.psum(a, "processes"),
            "gather": lambda a: jax.lax.all_gather(a, "processes", tiled=True)}[kind]
    spec = jax.sharding.PartitionSpec("processes")
    return jax.jit(jax.shard_map(body, mesh=_process_mesh(), in_specs=spec, out_specs=jax.sharding.PartitionSpec(),
                                 check_vma=False))


def all_processes(flag: bool) -> bool:
    """Whether ``flag`` holds in every process (the same answer everywhere)."""
    return bool(np.all(all_gather(np.array([bool(flag)]))))


@dataclasses.dataclass(frozen=True)
class HostMemory:
    """Available host memory of the job's busiest host: how many processes share it and the bytes available."""

    processes: int
    available: int

    @property
    def per_process(self) -> int:
        return self.available // self.processes


def busiest_host(available: int) -> HostMemory:
    """The host where each process gets the least memory, from every process's ``available`` bytes and host name
    (processes on one host share its memory)."""
    if not in_job():
        return HostMemory(1, available)
    name = np.frombuffer(socket.gethostname().encode()[:64].ljust(64, b"\0"), dtype=np.uint8)
    names = all_gather(name)
    amounts = all_gather(np.array([available], dtype=np.int64))[:, 0]
    hosts = {}
    for host, amount in zip((bytes(row) for row in names), amounts):
        count, least = hosts.get(host, (0, amount))
        hosts[host] = (count + 1, min(least, int(amount)))
    count, least = min(hosts.values(), key=lambda item: item[1] // item[0])
    return HostMemory(count, least)

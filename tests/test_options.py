"""Every public parameter is checked once, against one declaration (kernelscale.options), before anything is computed;
every error that reaches a user is a kernelscale error, and the command line prints it as one line, exit 2, with no
traceback."""

import importlib
import inspect
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale import fit, options
from kernelscale.cli import app

# every public function checked against the declarations (found by their ``rules``), and a valid call's arguments
VALIDATED = {
    "predict": ("fc", "digits"), "measure": ("fc", "digits"), "measure_loss_surface": ("fc:depth=2", "digits"),
    "compare": ("fc", "digits"), "sweep": ("fc", "digits"), "load_dataset": ("digits",),
    "dataset_from_arrays": (np.zeros((4, 3)), None), "compute_kernel": ("fc", np.ones((4, 3))),
    "spectrum": (np.eye(4),), "eigendecompose": (np.eye(4),), "eigenvalues_and_powers": (np.eye(4), None),
    "eigenvalues_and_projections": (np.eye(4), None), "allocate": (1e20, None), "choose_eigensolver": (1000,),
    "predict_allocation": ("fc", "teacher"),
}
REQUIRED_KEYWORDS = {"load_dataset": {"n_samples": None}, "predict_allocation": {"compute": 1e5},
                     "fresh_points": {"n_samples": 600, "seed": 0, "count": 10}, "sweep": {"parameter": "depth", "values": [1, 2]},
                     "compare_pool": {"n_samples": 600, "pool": 2000},
                     "make_pool": {"pool_size": 1000}}
MODULE_FUNCTIONS = [("pool", "compare_pool", ("fc", "digits")), ("pool", "make_pool", ("fc", "digits")),
                    ("kernels", "kernel_operator", ("fc", np.ones((4, 3)))),
                    ("allocation", "compute_optimal", (None, 1e20)), ("spectrum", "eigendecompose_where", (np.eye(4),)),
                    ("training", "trained_losses", (None, None, None, (8,), (8,))),
                    ("finite_width", "finite_width_errors", (None, None, None, (8,))),
                    ("data", "fresh_points", ("teacher",))]


def _cases():
    functions = [(name, getattr(ks, name), args) for name, args in VALIDATED.items()]
    functions += [(name, getattr(importlib.import_module(f"kernelscale.{module}"), name), args)
                  for module, name, args in MODULE_FUNCTIONS]
    for name, function, args in functions:
        assert function.rules, name
        for parameter, rule in function.rules.items():
            yield pytest.param(name, function, args, parameter, rule, id=f"{name}-{parameter}")


@pytest.mark.parametrize(("name", "function", "args", "parameter", "rule"), list(_cases()))
def test_every_public_function_refuses_a_bad_argument_before_computing(name, function, args, parameter, rule):
    bound = inspect.signature(function).bind_partial(*args, **REQUIRED_KEYWORDS.get(name, {}))
    bound.arguments[parameter] = rule.example_violation()
    start = time.perf_counter()
    with pytest.raises(ks.ParameterError, match=f"^{parameter} must be .*; got "):
        function(*bound.args, **bound.kwargs)
    assert time.perf_counter() - start < 1.0  # refused at the boundary: nothing loaded or computed


def test_the_declarations_are_the_stages_own_numbers():
    assert options.MIN_SAMPLES == int(8 * fit.MIN_INDEX * fit.WINDOW_RATIO**2)
    assert options.REGIMES == tuple(importlib.import_module("kernelscale.regimes").REGIMES)
    with pytest.raises(ks.ParameterError, match="predict\\(\\): got an unexpected keyword argument 'kernal'"):
        ks.predict("fc", "digits", kernal="ntk")


def test_importing_the_command_line_imports_no_jax():
    """The command line checks its options before the slow imports: importing it (and kernelscale) loads neither JAX
    nor NumPy's linear algebra stages."""
    code = "import sys, kernelscale.cli; print('jax' in sys.modules, 'neural_tangents' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(("fn", "args", "error"), [
    (fit.fit_power_law, ([1.0, 2.0], [1.0]), ks.DataError),
    (fit.fit_power_law, ([1.0, 2.0], [1.0, -1.0]), ks.DataError),
    (fit.fit_curve, ([1, 2], [[1.0]]), ks.DataError),
    (fit.fit_tail_exponent, (np.ones(10), np.ones((1, 3))), ks.DataError),
    (ks.learning_curve, (np.ones(4), np.ones(3), [2]), ks.SpectrumError),
    (ks.learning_curve, (np.ones(4), np.ones(4), [8]), ks.SpectrumError),
    (ks.width_curve, (np.ones(4), np.ones(4), [8]), ks.SpectrumError),
    (ks.extrapolate_to_infinite_pool, (0.5, []), ks.SpectrumError),
])
def test_stage_functions_raise_kernelscale_errors_on_bad_arrays(fn, args, error):
    with pytest.raises(error):
        fn(*args)


runner = CliRunner()
BASE = {"predict": ["predict", "--arch", "fc", "--data", "digits"],
        "measure": ["measure", "--arch", "fc", "--data", "digits"],
        "compare": ["compare", "--arch", "fc", "--data", "digits"],
        "sweep": ["sweep", "--arch", "fc", "--data", "digits", "--vary", "depth=1,2"],
        "allocate": ["allocate", "--compute", "1e20", "--A", "1", "--B", "1", "--alpha", "0.3", "--beta", "0.3"]}
BAD = [
    ("predict", ["--kernel", "rbf"], "--kernel"), ("predict", ["--n", "10"], "--n"), ("predict", ["--n", "abc"], ""),
    ("predict", ["--seed", "-1"], "--seed"), ("predict", ["--device", "tpu"], "--device"),
    ("predict", ["--eigensolver", "lanczos"], "--eigensolver"), ("predict", ["--n-eigs", "1"], "--n-eigs"),
    ("predict", ["--at", "0"], "--at"), ("predict", ["--ridge", "-1"], "--ridge"), ("predict", ["--noise", "nan"], ""),
    ("predict", ["--sizes", "1,x"], "--sizes"), ("predict", ["--features", "0,5"], "--features"),
    ("predict", ["--arch", "mlp"], ""), ("predict", ["--data", "sphere:colour=red"], ""),
    ("measure", ["--regimes", "data,depth"], "--regimes"), ("measure", ["--repeats", "1"], "--repeats"),
    ("measure", ["--optimizer", "lbfgs"], ""), ("measure", ["--steps", "7"], ""),
    ("measure", ["--trained-width", "0"], "--trained-width"), ("measure", ["--widths", "0,4"], "--widths"),
    ("compare", ["--pool", "1"], "--pool"), ("compare", ["--repeats", "0"], "--repeats"),
    ("compare", ["--no-width", "--finite-width"], ""), ("compare", ["--n", "600", "--pool", "400"], ""),
    ("sweep", ["--kernel", "rbf"], "--kernel"), ("sweep", ["--vary", "colour=red,blue"], ""),
    ("allocate", ["--compute", "-5"], "--compute"), ("allocate", ["--alpha", "-1"], ""),
    ("allocate", ["--cost", "power:k=0"], ""),
]


@pytest.mark.parametrize(("command", "extra", "option"), BAD, ids=[f"{c}{' '.join(e)}" for c, e, _ in BAD])
def test_every_command_refuses_bad_options_in_one_line(command, extra, option, tmp_path):
    out = tmp_path / "out.json"
    result = runner.invoke(app, [*BASE[command], *extra, "--json", str(out)])
    assert result.exit_code == 2, result.output
    assert "Error: " in result.output and "Traceback" not in result.output, result.output
    assert f"Error: {option}:" in result.output if option else True
    assert not out.exists()

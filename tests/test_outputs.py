"""Output files (#25, item 5): checked before anything is computed (a folder, a missing folder, an unwritable place,
the same file twice, a figure extension that names no format), each an `Error:` line with exit 2 and no file
written; a figure's format follows its extension; new files get the permissions the user's umask gives."""

import importlib
import os
import stat

import pytest
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale._io import check_output_files, write_text_atomically
from kernelscale.cli import app

runner = CliRunner()
PREDICT = ["predict", "--arch", "fc:depth=2", "--data", "digits", "--n", "600", "--no-intrinsic-dim"]


@pytest.mark.parametrize(("where", "message"), [
    (lambda tmp: ["--json", str(tmp)], "is a folder"),
    (lambda tmp: ["--plot", str(tmp)], "is a folder"),
    (lambda tmp: ["--json", str(tmp / "missing" / "out.json")], "does not exist"),
    (lambda tmp: ["--json", "/proc/out.json"], "no file can be written"),
    (lambda tmp: ["--plot", "/sys/out.png"], "no file can be written"),
    (lambda tmp: ["--json", str(tmp / "same.png"), "--plot", str(tmp / "same.png")], "is also the --json file"),
    (lambda tmp: ["--plot", str(tmp / "figure.jpg")], "one of .png, .pdf, .svg"),
    (lambda tmp: ["--plot", str(tmp / "figure")], "one of .png, .pdf, .svg"),
    (lambda tmp: ["--cache", str(tmp / "missing" / "cache")], "does not exist"),
    (lambda tmp: ["--cache", "/proc/kernels"], "no file can be written"),
    (lambda tmp: ["--cache", str(tmp / "a-file")], "is a file"),
    (lambda tmp: ["--cache", str(tmp / "cache"), "--no-cache"], "give one of the two"),
])
def test_bad_output_paths_fail_before_computing(where, message, tmp_path, monkeypatch):
    computed = []
    (tmp_path / "a-file").write_text("")
    predict_module = importlib.import_module("kernelscale.predict")  # the module, not the function
    monkeypatch.setattr(predict_module, "sample_spectrum", lambda *a, **k: computed.append(1))
    before = set(tmp_path.rglob("*"))
    result = runner.invoke(app, [*PREDICT, *where(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: --") and message in result.output and "Traceback" not in result.output
    assert not computed and set(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_the_figure_format_follows_the_extension(suffix, magic, tmp_path):
    path = tmp_path / f"spectrum{suffix}"
    result = runner.invoke(app, [*PREDICT, "--plot", str(path), "--json", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:len(magic)] == magic


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomically(tmp_path / "new.json", "{}")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640
        os.umask(0o022)
        write_text_atomically(tmp_path / "other.json", "{}")
        assert stat.S_IMODE((tmp_path / "other.json").stat().st_mode) == 0o644
        (tmp_path / "new.json").chmod(0o600)
        write_text_atomically(tmp_path / "new.json", "[]")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600
        assert (tmp_path / "new.json").read_text() == "[]"
    finally:
        os.umask(old)


def test_the_python_api_checks_the_same_way(tmp_path):
    with pytest.raises(ks.ParameterError, match="--plot: .* one of .png, .pdf, .svg"):
        check_output_files({"--plot": tmp_path / "x.gif"}, figures=("--plot",))
    check_output_files({"--json": tmp_path / "a.json", "--plot": tmp_path / "a.png", "--other": None},
                       figures=("--plot",))
    assert list(tmp_path.iterdir()) == []  # the probe file is gone

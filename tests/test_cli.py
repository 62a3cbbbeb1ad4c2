import json
import subprocess
import sys

import numpy as np
import pytest

COMMANDS = ("demo", "train", "project", "figures", "report", "info", "serve")


def run_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "latentspace", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_train_end_to_end_on_subset(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--data", "digits", "--n-samples", "300", "--model", "ae",
                     "--latent-dim", "4", "--epochs", "2", "--projections", "pca-2d,umap-2d,pca-3d",
                     "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"Report: {(out / 'report.html').resolve()}" in result.stdout
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["model"]["model"] == "ae"
    assert record["metrics"]["compression_ratio"] == pytest.approx(16.0)
    assert len(record["history"]) >= 1
    for name in ("model.safetensors", "latents.parquet", "report.html",
                 "projections/umap-2d.parquet", "projections/pca-3d.parquet"):
        assert (out / name).is_file(), name
    assert len(list((out / "figures").glob("*.png"))) >= 8

    info = run_cli("info", str(out))
    assert info.returncode == 0, info.stdout + info.stderr
    assert "No problems found" in info.stdout

    more = run_cli("project", str(out), "--projections", "tsne-2d")
    assert more.returncode == 0, more.stderr
    assert (out / "projections" / "tsne-2d.parquet").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (("--data", "digitz"), "Cannot load 'digitz': it is neither a built-in data set"),
    (("--model", "gan"), "Unknown model 'gan'"),
    (("--latent-dim", "100", "--model", "pca"), "latent_dim"),
    (("--data", "mnist", "--data-dir", "/nonexistent/mnist"), "t10k-images-idx3-ubyte.gz"),
    (("--projections", "umap-4d"), "Invalid projection 'umap-4d'"),
])
def test_user_errors_are_one_line(tmp_path, args, message):
    result = run_cli("train", "--out", str(tmp_path / "run"), "--no-progress", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_info_reports_missing_run(tmp_path):
    result = run_cli("info", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "not found" in result.stderr


def test_info_names_unfinished_run(tmp_path):
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.safetensors").write_bytes(b"")
    result = run_cli("info", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "is unfinished" in result.stderr
    assert "latentspace train --resume --out" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--device", "gpu"), "Invalid device 'gpu'"),
    (("--precision", "fp16"), "Invalid precision 'fp16'"),
])
def test_bad_training_option_keeps_old_run(tmp_path, args, message):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{}")
    result = run_cli("train", "--out", str(out), "--overwrite", "--no-progress", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert (out / "run.json").read_text() == "{}"


def test_feature_columns_pick_table_columns(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,d,label"] + [",".join(f"{v:.4f}" for v in rng.normal(size=4)) + f",k{i % 3}"
                                for i in range(60)]
    (tmp_path / "table.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    result = run_cli("train", "--data", str(tmp_path / "table.csv"), "--label-column", "label",
                     "--feature-columns", "a, c,d", "--model", "pca", "--latent-dim", "2",
                     "--projections", "pca-2d", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["data"]["sample_shape"] == [3]


def test_file_column_names_missing_column(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels.csv").write_text("file,label\na.png,x\n")
    result = run_cli("train", "--data", str(tmp_path / "images"), "--labels-csv",
                     str(tmp_path / "labels.csv"), "--file-column", "picture",
                     "--out", str(tmp_path / "run"), "--no-progress")
    assert result.returncode == 2
    assert "looked for picture" in result.stderr


def test_empty_feature_columns_rejected(tmp_path):
    result = run_cli("train", "--feature-columns", " , ", "--out", str(tmp_path / "run"),
                     "--no-progress")
    assert result.returncode == 2
    assert "Invalid --feature-columns ' , '" in result.stderr


def test_out_checked_before_training(tmp_path):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("keep me")
    result = run_cli("train", "--out", str(not_a_folder), "--no-progress")
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr
    assert not_a_folder.read_text() == "keep me"


def test_existing_run_needs_resume_or_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{}")
    result = run_cli("train", "--out", str(out), "--no-progress")
    assert result.returncode == 2
    assert "already contains a run" in result.stderr
    assert (out / "run.json").read_text() == "{}"


def test_empty_projection_list_rejected(tmp_path):
    result = run_cli("train", "--projections", ",", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "--projections is empty" in result.stderr

"""Tests for how training runs: fused Adam with clipping, threads, device and precision."""

from __future__ import annotations

import copy

import pytest
import torch

from latentspace.data import load_dataset
from latentspace.errors import InvalidParameterError
from latentspace.models import build_model
from latentspace.training import TrainConfig, hardware, load_checkpoint, train
from latentspace.training.hardware import (
    TrainingStep,
    choose_threads,
    make_optimizer,
    resolve_device,
    resolve_precision,
)


@pytest.fixture(scope="module")
def digits():
    x = load_dataset("digits").x[:320]
    return x[:256], x[256:]


def reference_step(model, x, max_norm):
    """One step the textbook way: clip_grad_norm_ and torch's per-parameter Adam."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False)
    loss = model.loss(x)["loss"]
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return norm


@pytest.mark.parametrize("max_norm", [1e-3, 1.0, 1e9])
def test_fused_clipping_matches_clip_grad_norm(digits, max_norm):
    x = torch.from_numpy(digits[0][:64])
    model = build_model("ae", (1, 8, 8), 4, seed=0)
    expected = copy.deepcopy(model)
    norm = reference_step(expected, x, max_norm)

    step = TrainingStep(model, make_optimizer(model, 1e-3, 0.0), grad_clip=max_norm)
    assert step.fused
    step.update(step.forward(x)["loss"])

    if max_norm == 1.0:
        assert norm > max_norm  # this case must really clip
    for got, want in zip(model.parameters(), expected.parameters(), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_unfused_clipping_matches_clip_grad_norm(digits):
    x = torch.from_numpy(digits[0][:64])
    model = build_model("ae", (1, 8, 8), 4, seed=0)
    expected = copy.deepcopy(model)
    reference_step(expected, x, 0.5)

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False)
    step = TrainingStep(model, optimizer, grad_clip=0.5)
    assert not step.fused
    step.update(step.forward(x)["loss"])
    for got, want in zip(model.parameters(), expected.parameters(), strict=True):
        torch.testing.assert_close(got, want)


def test_choose_threads_small_model_uses_one(digits):
    model = build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32])
    step = TrainingStep(model, make_optimizer(model, 1e-3, 0.0))
    assert choose_threads(step, torch.from_numpy(digits[0]), 64) == (1, None)


def test_choose_threads_times_large_model(digits, monkeypatch):
    monkeypatch.setattr(hardware, "available_cpus", lambda: 2)
    monkeypatch.setattr(hardware, "SMALL_STEP_MACS", 0)
    model = build_model("ae", (1, 8, 8), 2, seed=0)
    before = copy.deepcopy(model.state_dict())
    torch.manual_seed(0)
    expected_random = torch.rand(3)
    torch.manual_seed(0)

    step = TrainingStep(model, make_optimizer(model, 1e-3, 0.0), grad_clip=1.0)
    threads, step_seconds = choose_threads(step, torch.from_numpy(digits[0]), 64,
                                           max_threads=2)

    assert threads in (1, 2)
    assert step_seconds > 0
    assert torch.equal(torch.rand(3), expected_random)  # timing forks the random state
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name  # timing trains a copy


def test_resumed_run_keeps_thread_count(digits, tmp_path):
    model = build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32])
    config = TrainConfig(epochs=2, batch_size=64, patience=None, num_threads=1)
    train(model, *digits, config, checkpoint_dir=tmp_path, progress=False)
    assert load_checkpoint(tmp_path).threads == 1

    more = TrainConfig(epochs=3, batch_size=64, patience=None)
    result = train(build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32]), *digits, more,
                   checkpoint_dir=tmp_path, resume=True, progress=False)
    assert result.hardware["threads"] == 1


def test_recheck_threads_after_slow_epoch(digits, monkeypatch):
    monkeypatch.setattr(hardware, "choose_threads", lambda *args: (1, 0.002))
    model = build_model("ae", (1, 8, 8), 2, seed=0)
    step = TrainingStep(model, make_optimizer(model, 1e-3, 0.0))
    x = torch.from_numpy(digits[0])
    n_batches = 4  # 256 samples in batches of 64
    assert hardware.recheck_threads(step, x, 64, 2, 0.001, 0.002 * n_batches, 2) == (2, 0.001)
    assert hardware.recheck_threads(step, x, 64, 2, 0.5, 2.0 * n_batches, 2) == (1, 0.002)
    # Too short an epoch to compare, however slow its steps.
    assert hardware.recheck_threads(step, x, 64, 2, 0.001, 0.1 * n_batches, 2) == (2, 0.001)


def test_more_threads_than_cpus_warns(digits, caplog, monkeypatch):
    monkeypatch.setattr(hardware, "available_cpus", lambda: 2)
    monkeypatch.setattr("latentspace.training.loop.available_cpus", lambda: 2)
    config = TrainConfig(epochs=1, batch_size=64, patience=None, num_threads=3)
    model = build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32])
    train(model, *digits, config, progress=False)
    assert "Training with 3 CPU threads on 2 CPU(s)" in caplog.text


def test_resume_with_other_threads_and_precision_warns(digits, tmp_path, caplog):
    model = build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32])
    config = TrainConfig(epochs=1, batch_size=64, patience=None, num_threads=1)
    train(model, *digits, config, checkpoint_dir=tmp_path, progress=False)
    changed = TrainConfig(epochs=2, batch_size=64, patience=None, num_threads=2,
                          precision="bf16")
    train(build_model("ae", (1, 8, 8), 2, seed=0, hidden_dims=[32]), *digits, changed,
          checkpoint_dir=tmp_path, resume=True, progress=False)
    assert "Resuming with 2 CPU thread(s) where the run started with 1" in caplog.text
    assert "precision 'auto' -> 'bf16'" in caplog.text


def test_pca_uses_thread_setting(digits):
    config = TrainConfig(num_threads=1, precision="bf16")
    result = train(build_model("pca", (1, 8, 8), 2), *digits, config, progress=False)
    assert result.hardware == {"device": "cpu", "precision": "fp32", "threads": 1}


def test_train_reports_hardware_and_speed(digits):
    config = TrainConfig(epochs=1, batch_size=64, patience=None, device="cpu")
    result = train(build_model("ae", (1, 8, 8), 2, seed=0), *digits, config, progress=False)
    assert result.hardware["device"] == "cpu"
    assert result.hardware["precision"] == "fp32"
    assert result.hardware["threads"] >= 1
    assert result.history[0]["samples_per_s"] > 0


def test_bf16_training_on_cpu(digits):
    model = build_model("vae", (1, 8, 8), 2, seed=0)
    config = TrainConfig(epochs=3, batch_size=64, patience=None, precision="bf16")
    result = train(model, *digits, config, progress=False)
    assert result.hardware["precision"] == "bf16"
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_invalid_precision():
    with pytest.raises(InvalidParameterError, match=r"Invalid precision 'fp8'; use one of"):
        TrainConfig(precision="fp8")


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda:x", ""])
def test_invalid_device(name):
    with pytest.raises(InvalidParameterError, match="Invalid device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_gpu(digits):
    config = TrainConfig(epochs=1, device="cuda")
    model = build_model("ae", (1, 8, 8), 2, seed=0)
    pattern = r"Device 'cuda' needs a CUDA GPU.*--device cpu"
    with pytest.raises(InvalidParameterError, match=pattern):
        train(model, *digits, config, progress=False)


def test_auto_precision_is_fp32_on_cpu():
    assert resolve_precision("auto", torch.device("cpu")) is None
    assert resolve_precision("bf16", torch.device("cpu")) is torch.bfloat16
    assert resolve_device("cpu") == torch.device("cpu")

"""Tests for the training loop: repeatability, checkpoints, resume, guards and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from latentspace.data import load_dataset
from latentspace.errors import (
    DataError,
    InvalidParameterError,
    RunDirectoryError,
    TrainingError,
)
from latentspace.models import build_model
from latentspace.training import BEST_FILE, LAST_FILE, TrainConfig, load_checkpoint, train
from latentspace.training import checkpoint as checkpoint_module

SMALL = {"hidden_dims": [32]}


@pytest.fixture(scope="module")
def digits():
    """300 digits split 240 / 60, small enough for many short runs."""
    x = load_dataset("digits").x[:300]
    return x[:240], x[240:]


def small_model(name: str = "ae", latent_dim: int = 2, seed: int = 0):
    options = SMALL if name in ("ae", "vae") else {}
    return build_model(name, (1, 8, 8), latent_dim, seed=seed, **options)


def quick_config(**overrides) -> TrainConfig:
    settings = {"epochs": 4, "batch_size": 32, "patience": None, "kl_warmup_epochs": 2}
    settings.update(overrides)
    return TrainConfig(**settings)


def assert_same_weights(first: torch.nn.Module, second: torch.nn.Module) -> None:
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name


class LossHook:
    """Replace `model.loss`; its `call`-th call in training mode raises KeyboardInterrupt
    or returns a NaN loss. Calls in eval mode (validation, sanity check) are not counted."""

    def __init__(self, model, call: int, action: str = "interrupt"):
        self.model, self.original = model, model.loss
        self.call, self.action, self.count = call, action, 0
        model.loss = self

    def __call__(self, x):
        losses = self.original(x)
        if not self.model.training:
            return losses
        self.count += 1
        if self.count == self.call:
            if self.action == "interrupt":
                raise KeyboardInterrupt
            losses["loss"] = losses["loss"] * float("nan")
        return losses


@pytest.mark.parametrize("name", ["ae", "vae", "conv-vae"])
def test_same_seed_same_weights_and_latents(digits, name):
    x_train, x_val = digits
    first, second = small_model(name), small_model(name)
    train(first, x_train, x_val, quick_config(epochs=2), progress=False)
    train(second, x_train, x_val, quick_config(epochs=2), progress=False)
    assert_same_weights(first, second)
    x = torch.from_numpy(x_val)
    assert torch.equal(first.encode(x), second.encode(x))


def test_different_seed_different_weights(digits):
    x_train, x_val = digits
    first, second = small_model(), small_model()
    train(first, x_train, x_val, quick_config(epochs=1, seed=0), progress=False)
    train(second, x_train, x_val, quick_config(epochs=1, seed=1), progress=False)
    assert not torch.equal(first.encode(torch.from_numpy(x_val)),
                           second.encode(torch.from_numpy(x_val)))


def test_train_keeps_global_random_state(digits):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    train(small_model("vae"), *digits, quick_config(epochs=1), progress=False)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_resume_after_kill_mid_epoch_matches(digits, name, tmp_path):
    x_train, x_val = digits
    reference = small_model(name)
    train(reference, x_train, x_val, quick_config(), progress=False)

    # 240 samples / 32 = 8 batches per epoch; call 20 is batch 4 of epoch 3.
    interrupted = small_model(name)
    LossHook(interrupted, call=20)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, x_train, x_val, quick_config(), checkpoint_dir=tmp_path,
              progress=False)
    assert load_checkpoint(tmp_path).epoch == 2

    resumed = small_model(name, seed=99)
    result = train(resumed, x_train, x_val, quick_config(), checkpoint_dir=tmp_path,
                   resume=True, progress=False)
    assert result.resumed_from_epoch == 2
    assert [entry["epoch"] for entry in result.history] == [1, 2, 3, 4]
    assert_same_weights(resumed, reference)


def test_resume_after_stop_at_epoch_end_matches(digits, tmp_path):
    x_train, x_val = digits
    reference = small_model("vae")
    train(reference, x_train, x_val, quick_config(), progress=False)

    def stop_after_second(entry):
        if entry["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(small_model("vae"), x_train, x_val, quick_config(), checkpoint_dir=tmp_path,
              progress=False, callbacks=[stop_after_second])
    resumed = small_model("vae")
    train(resumed, x_train, x_val, quick_config(), checkpoint_dir=tmp_path, resume=True,
          progress=False)
    assert_same_weights(resumed, reference)


def test_resume_with_more_epochs_continues(digits, tmp_path):
    x_train, x_val = digits
    reference = small_model()
    train(reference, x_train, x_val, quick_config(epochs=4), progress=False)
    extended = small_model()
    train(extended, x_train, x_val, quick_config(epochs=2), checkpoint_dir=tmp_path,
          progress=False)
    result = train(extended, x_train, x_val, quick_config(epochs=4), checkpoint_dir=tmp_path,
                   resume=True, progress=False)
    assert len(result.history) == 4
    assert_same_weights(extended, reference)


def test_resume_without_checkpoint_starts_fresh(digits, tmp_path):
    result = train(small_model(), *digits, quick_config(epochs=1), checkpoint_dir=tmp_path,
                   resume=True, progress=False)
    assert result.resumed_from_epoch is None
    assert len(result.history) == 1


def test_checkpoint_files_after_each_epoch(digits, tmp_path):
    seen = []

    def record_checkpoint(entry):
        seen.append(load_checkpoint(tmp_path).epoch)

    train(small_model(), *digits, quick_config(epochs=3), checkpoint_dir=tmp_path,
          progress=False, callbacks=[record_checkpoint])
    assert seen == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [BEST_FILE, LAST_FILE]
    with safe_open(str(tmp_path / LAST_FILE), framework="pt") as handle:
        keys = set(handle.keys())
        state = json.loads(handle.metadata()["state"])
    assert {"rng.torch", "rng.shuffle"} <= keys
    assert any(key.startswith("optimizer.") for key in keys)
    assert any(key.startswith("model.") for key in keys)
    assert state["epoch"] == 3
    assert len(state["history"]) == 3
    assert state["identity"]["model_config"]["model"] == "ae"


def test_interrupted_write_keeps_previous_checkpoint(digits, tmp_path, monkeypatch):
    train(small_model(), *digits, quick_config(epochs=1), checkpoint_dir=tmp_path,
          progress=False)
    before = (tmp_path / LAST_FILE).read_bytes()

    def killed_while_writing(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("latentspace.models.base.save_file", killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        train(small_model(), *digits, quick_config(epochs=2), checkpoint_dir=tmp_path,
              resume=True, progress=False)
    assert (tmp_path / LAST_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [BEST_FILE, LAST_FILE]


def test_nan_loss_names_epoch_and_batch(digits, tmp_path):
    x_train, x_val = digits
    model = small_model()
    # Call 13 is batch 5 of epoch 2 (8 batches per epoch).
    LossHook(model, call=13, action="nan")
    with pytest.raises(TrainingError, match=r"nan at epoch 2, batch 5 of 8\. The last good "
                       r"checkpoint \(.*last\.safetensors, epoch 1\) is kept"):
        train(model, x_train, x_val, quick_config(), checkpoint_dir=tmp_path, progress=False)
    assert load_checkpoint(tmp_path).epoch == 1
    best = checkpoint_module.load_best_weights(tmp_path)
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name]), name


def test_huge_learning_rate_raises_training_error(digits):
    with pytest.raises(TrainingError, match=r"at epoch \d+, batch \d+ of 8.*Lower learning_rate "
                       r"\(now 1e\+30\)"):
        train(small_model(), *digits, quick_config(learning_rate=1e30, grad_clip=None),
              progress=False)


def test_non_finite_data_rejected(digits):
    x_train = digits[0].copy()
    x_train[7, 0, 3, 3] = np.inf
    with pytest.raises(DataError, match="x_train contains NaN or infinite values in 1 samples "
                       r"\(first at row 7\)"):
        train(small_model(), x_train, digits[1], quick_config(), progress=False)


def test_resume_with_other_model_config(digits, tmp_path):
    train(small_model(latent_dim=2), *digits, quick_config(epochs=1), checkpoint_dir=tmp_path,
          progress=False)
    pattern = (r"Cannot resume from .*last\.safetensors: it belongs to a different run\. "
               r"model_config\.latent_dim is 2 in the checkpoint but 3 now.*new run "
               r"directory")
    with pytest.raises(RunDirectoryError, match=pattern):
        train(small_model(latent_dim=3), *digits, quick_config(epochs=2),
              checkpoint_dir=tmp_path, resume=True, progress=False)


def test_resume_with_other_data(digits, tmp_path):
    x_train, x_val = digits
    train(small_model(), x_train, x_val, quick_config(epochs=1), checkpoint_dir=tmp_path,
          progress=False)
    with pytest.raises(RunDirectoryError, match=r"train_data is \"[0-9a-f]+\.\.\." ):
        train(small_model(), x_train[:200], x_val, quick_config(epochs=2),
              checkpoint_dir=tmp_path, resume=True, progress=False)


def test_resume_with_other_identity_entry(digits, tmp_path):
    train(small_model(), *digits, quick_config(epochs=1), checkpoint_dir=tmp_path,
          identity={"dataset": "digits"}, progress=False)
    with pytest.raises(RunDirectoryError, match='dataset is "digits" in the checkpoint but '
                       '"mnist" now'):
        train(small_model(), *digits, quick_config(epochs=2), checkpoint_dir=tmp_path,
              identity={"dataset": "mnist"}, resume=True, progress=False)


def test_early_stopping_loads_best_weights(digits, tmp_path):
    x_train, x_val = digits
    model = small_model()
    # With min_delta this large, no epoch after the first counts as an improvement.
    config = quick_config(epochs=50, patience=2, min_delta=1e6)
    result = train(model, x_train, x_val, config, checkpoint_dir=tmp_path, progress=False)
    assert result.stopped_early
    assert result.best_epoch == 1
    assert len(result.history) == 3
    best = checkpoint_module.load_best_weights(tmp_path)
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name]), name


def test_resume_of_finished_run_trains_nothing(digits, tmp_path):
    config = quick_config(epochs=50, patience=2, min_delta=1e6)
    train(small_model(), *digits, config, checkpoint_dir=tmp_path, progress=False)
    model = small_model(seed=5)
    result = train(model, *digits, config, checkpoint_dir=tmp_path, resume=True,
                   progress=False)
    assert result.stopped_early
    assert len(result.history) == 3


def test_vae_warmup_epochs_not_counted_for_patience(digits):
    config = quick_config(epochs=50, patience=2, min_delta=1e6, kl_warmup_epochs=5)
    result = train(small_model("vae"), *digits, config, progress=False)
    assert len(result.history) == 7


def test_history_entries_have_all_losses(digits):
    result = train(small_model("vae"), *digits, quick_config(epochs=2), progress=False)
    entry = result.history[-1]
    assert set(entry) == {"epoch", "train_loss", "val_loss", "train_recon", "val_recon",
                          "train_kl", "val_kl", "seconds", "samples_per_s"}
    assert entry["val_loss"] == pytest.approx(entry["val_recon"] + entry["val_kl"])


def test_train_without_validation_set(digits):
    result = train(small_model(), digits[0], None, quick_config(epochs=2), progress=False)
    assert result.history[-1]["val_loss"] is None
    assert result.best_loss == min(entry["train_loss"] for entry in result.history)


def test_pca_fits_in_one_step(digits, tmp_path):
    model = small_model("pca")
    result = train(model, *digits, quick_config(), checkpoint_dir=tmp_path, progress=False)
    assert len(result.history) == 1
    assert result.history[0]["val_loss"] > 0
    assert model.components.abs().sum() > 0
    assert (tmp_path / BEST_FILE).is_file()


def test_progress_bar_runs(digits):
    result = train(small_model(), *digits, quick_config(epochs=1), progress=True)
    assert len(result.history) == 1


def test_resume_needs_checkpoint_dir(digits):
    with pytest.raises(InvalidParameterError, match="resume=True needs checkpoint_dir"):
        train(small_model(), *digits, quick_config(), resume=True, progress=False)


@pytest.mark.parametrize(("option", "value", "pattern"), [
    ("epochs", 0, r"epochs must be an integer >= 1, got 0"),
    ("batch_size", 2.5, r"batch_size must be an integer >= 1, got 2\.5"),
    ("learning_rate", 0.0, r"learning_rate must be a finite number > 0, got 0\.0"),
    ("patience", 0, r"patience must be an integer >= 1, got 0\. Use None"),
    ("grad_clip", -1.0, r"grad_clip must be a finite number > 0, got -1\.0\. Use None"),
    ("kl_warmup_epochs", -1, r"kl_warmup_epochs must be an integer >= 0, got -1"),
])
def test_train_config_rejects(option, value, pattern):
    with pytest.raises(InvalidParameterError, match=pattern):
        TrainConfig(**{option: value})


def test_wrong_sample_shape_rejected(digits):
    with pytest.raises(DataError, match=r"x_train has samples of shape \(64,\)"):
        train(small_model(), digits[0].reshape(240, 64), None, quick_config(), progress=False)

"""Metrics against known values, and LPIPS honesty: a score only where weights really load."""

import numpy as np
import pytest
from PIL import Image

from seig.state.state import Scores
from seig.tools import metrics


def test_psnr_of_a_known_error():
    a = np.zeros((16, 16, 3), np.float32)
    b = np.full((16, 16, 3), 0.1, np.float32)
    assert metrics.psnr(a, b) == pytest.approx(20.0, abs=1e-4)  # MSE 0.01 -> 20 dB
    assert metrics.psnr(a, a) == metrics.PSNR_CAP


def test_ssim_identical_and_different():
    rng = np.random.default_rng(0)
    a = rng.random((32, 32, 3), dtype=np.float32)
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.ssim(a, 1 - a) < 0.2


def test_similarity_orders_better_scores_higher():
    good, bad = Scores(psnr=35, ssim=0.95), Scores(psnr=15, ssim=0.5)
    assert 0 <= metrics.similarity(bad) < metrics.similarity(good) <= 1


def test_lpips_unavailable_without_weights_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    reason = metrics.lpips_status(str(tmp_path / "missing.pth"))
    assert reason is not None and "AlexNet" in reason
    a = np.zeros((16, 16, 3), np.float32)
    assert metrics.lpips_distance(a, a, str(tmp_path / "missing.pth")) is None


def test_lpips_loads_alexnet_weights_from_a_configured_path(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = tmp_path / "alexnet.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), weights)
    assert metrics.lpips_status(str(weights)) is None
    rng = np.random.default_rng(1)
    a = rng.random((32, 32, 3), dtype=np.float32)
    assert metrics.lpips_distance(a, a, str(weights)) == pytest.approx(0.0, abs=1e-6)
    assert metrics.lpips_distance(a, np.clip(a + 0.3, 0, 1), str(weights)) > 0


def test_a_file_that_is_not_alexnet_is_refused(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = tmp_path / "other.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, weights)
    assert "does not look like" in metrics.lpips_status(str(weights))


def test_score_images_resizes_the_target_to_the_render(tmp_path):
    Image.new("RGB", (64, 48), (128, 64, 32)).save(tmp_path / "t.png")
    Image.new("RGB", (32, 24), (128, 64, 32)).save(tmp_path / "r.png")
    scores = metrics.score_images(tmp_path / "t.png", tmp_path / "r.png", str(tmp_path / "none.pth"))
    assert scores.psnr == metrics.PSNR_CAP and scores.ssim == pytest.approx(1.0) and scores.lpips is None

"""Image scores of a render against its target: PSNR, SSIM and, where its weights load, LPIPS.

LPIPS needs two sets of weights: its small linear heads, which the ``lpips``
package ships, and torchvision's pretrained AlexNet, which torchvision would
download on first use. seig never downloads: it looks for the AlexNet file in
the torch hub cache or at ``SEIG_LPIPS_WEIGHTS`` and otherwise reports LPIPS as
unavailable, with the reason. No score is ever made up.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from seig.state.state import Scores
from seig.tools.images import read_rgb

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
PSNR_CAP = 60.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB for images in [0, 1]; identical images are capped at PSNR_CAP."""
    if np.array_equal(a, b):
        return PSNR_CAP
    return float(min(PSNR_CAP, peak_signal_noise_ratio(a, b, data_range=1.0)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    side = min(a.shape[0], a.shape[1])
    win = min(7, side if side % 2 else side - 1)
    return float(structural_similarity(a, b, data_range=1.0, channel_axis=2, win_size=win))


def alexnet_weights_path(configured: str | None = None) -> Path | None:
    """Where AlexNet's weights are on this machine, or None."""
    candidates = []
    if configured:
        candidates.append(Path(configured).expanduser())
    try:
        import torch.hub

        candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE)
    except Exception:
        pass
    return next((p for p in candidates if p.is_file()), None)


class LpipsUnavailable(RuntimeError):
    pass


@functools.lru_cache(maxsize=4)
def _lpips_model(weights: str):
    import lpips
    import torch

    model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    slices = [model.net.slice1, model.net.slice2, model.net.slice3, model.net.slice4, model.net.slice5]
    loaded = 0
    for sl in slices:
        for name, module in sl.named_children():
            for param in ("weight", "bias"):
                key = f"{name}.{param}"
                if key in features and hasattr(module, param):
                    getattr(module, param).data.copy_(features[key])
                    loaded += 1
    if loaded != 10:
        raise LpipsUnavailable(f"{weights} does not look like torchvision's AlexNet ({loaded}/10 tensors matched)")
    return model.eval()


def lpips_status(configured: str | None = None) -> str | None:
    """None when LPIPS can be computed, else the reason it cannot."""
    try:
        import lpips  # noqa: F401
    except Exception as exc:
        return f"LPIPS unavailable: the lpips package does not import ({exc.__class__.__name__}: {exc})"
    path = alexnet_weights_path(configured)
    if path is None:
        return (
            f"LPIPS unavailable: AlexNet weights ({ALEXNET_FILE}) are not in the torch hub cache; "
            "set SEIG_LPIPS_WEIGHTS to their path"
        )
    try:
        _lpips_model(str(path))
    except Exception as exc:
        return f"LPIPS unavailable: {exc}"
    return None


def lpips_distance(a: np.ndarray, b: np.ndarray, configured: str | None = None) -> float | None:
    """LPIPS (AlexNet) distance, or None when its weights are not on this machine."""
    if lpips_status(configured) is not None:
        return None
    import torch

    model = _lpips_model(str(alexnet_weights_path(configured)))

    def tensor(x: np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].float() * 2 - 1

    with torch.no_grad():
        return float(model(tensor(a), tensor(b)).item())


def score_images(target: Path | str, render: Path | str, lpips_weights: str | None = None) -> Scores:
    """Scores of a render against the target, compared at the render's size."""
    rendered = read_rgb(render)
    h, w = rendered.shape[:2]
    goal = read_rgb(target, (w, h))
    return Scores(psnr=psnr(goal, rendered), ssim=ssim(goal, rendered), lpips=lpips_distance(goal, rendered, lpips_weights))


def similarity(scores: Scores) -> float:
    """One number in [0, 1] to rank rounds: SSIM and PSNR (to 40 dB), and 1-LPIPS when known."""
    parts = [scores.ssim, min(max(scores.psnr, 0.0), 40.0) / 40.0]
    if scores.lpips is not None:
        parts.append(1.0 - min(scores.lpips, 1.0))
    return float(np.clip(sum(parts) / len(parts), 0.0, 1.0))

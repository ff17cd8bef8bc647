# Development-time cross-check (not part of the product): reference metric values for the
# fixture pairs from independent implementations — piq (FSIM/FSIMc, a port of FeatureSIM.m)
# and scikit-image (SSIM with ssim.m's settings). Writes reference.txt.
import numpy as np, torch, piq, skimage
from PIL import Image
from skimage.metrics import structural_similarity
def load(p): return np.asarray(Image.open(p).convert('RGB')).astype(np.float64) / 255
lines = ["# pair psnr ssim fsim fsimc  (scikit-image %s: SSIM; piq %s: FSIM, FSIMc; numpy: PSNR)" % (skimage.__version__, piq.__version__)]
for name in ["s96", "s256", "s384"]:
    a, b = load(name + "-input.png"), load(name + "-target.png")
    mse = np.mean((a - b) ** 2); psnr = 10 * np.log10(1 / mse)
    ya = 255 * (0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]); yb = 255 * (0.299 * b[..., 0] + 0.587 * b[..., 1] + 0.114 * b[..., 2])
    f = max(1, round(min(ya.shape) / 256))
    ssim = structural_similarity(ya, yb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255) if f == 1 else float('nan')
    ta = torch.from_numpy(a).permute(2, 0, 1)[None]; tb = torch.from_numpy(b).permute(2, 0, 1)[None]
    fs = piq.fsim(ta, tb, data_range=1., chromatic=False).item(); fc = piq.fsim(ta, tb, data_range=1., chromatic=True).item()
    lines.append("%s %.6f %.6f %.6f %.6f" % (name, psnr, ssim, fs, fc))
open("reference.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))

"""Write app/colormaps.npz: the colour maps the app's figures use, as 256 x 3 tables of bytes (and tab10's 10
colours), taken from matplotlib. A maintainer's step only: the app reads the file and needs no matplotlib
(tests/test_plots.py checks the file against matplotlib's maps).

    python scripts/colormaps.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAPS = ("gray", "magma", "viridis", "PuOr_r")  # app/raster.py's figures, and the Live page's heat (magma)
OUT = Path(__file__).resolve().parent.parent / "app" / "colormaps.npz"


def tables() -> dict[str, np.ndarray]:
    import matplotlib

    out = {m: (matplotlib.colormaps[m](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8) for m in MAPS}
    out["tab10"] = (np.array(matplotlib.colormaps["tab10"].colors) * 255).round().astype(np.uint8)
    return out


if __name__ == "__main__":
    np.savez_compressed(OUT, **tables())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")

"""Screenshot the HTML report as a person sees it, in headless Chromium.

Run from the repository root: ``python tools/screenshot_report.py [OUT_DIR]`` (default
``build/screenshots``, ignored by git). It needs a ``chromium`` (Debian:
``apt-get install chromium``) or ``google-chrome`` on the PATH. It writes, for
``clinicsim.sample(5000, seed=42)``:

- ``report.html`` (``report.save``) and ``report-01.png``, ``report-02.png``, … : the page
  at a 1400 px wide window, cut into tiles 1400 x 1500 px to look at one by one;
- ``notebook.html`` / ``notebook.png``: the notebook display (``report._repr_html_()``)
  and ``model._repr_html_()`` inside a page with its own global styles, so that a style
  leaking out of the report (or into it) shows;

and prints a table of the figures' sizes (a figure at most ``DPI * WIDTH`` px wide is shown
at its own size, so its 9 pt text is 12 px) and the size of the notebook display.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

import clinicsim
from clinicsim.analysis._figures import DPI, WIDTH

WINDOW = 1400
TILE = 1500
TALL = 20000  # px: the page is shot in one window this tall, then trimmed and cut

# A page like a notebook's: its own fonts and table rules, which the report must neither
# change nor depend on.
NOTEBOOK_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{{font-family:serif;margin:1em 3em;background:#fafafa}}
table{{border:3px solid orange}} .cell{{border-left:4px solid #42a5f5;padding-left:1em;
margin:1em 0}}</style></head><body>
<p class="cell">A notebook cell before the outputs; its width is the page's.</p>
<div class="cell">{report}</div><div class="cell">{model}</div>
<table><tr><td>a notebook table after the outputs: orange border, serif</td></tr></table>
</body></html>"""


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("no chromium on the PATH: apt-get install chromium")


def shoot(page: Path, png: Path, height: int) -> Image.Image:
    """The page in a WINDOW x height window, with the blank bottom trimmed."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--screenshot={png}", f"--window-size={WINDOW},{height}",
                        page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=300)
    image = Image.open(png).convert("RGB")
    # trim the background below the content (its colour: the bottom-right pixel)
    background = Image.new("RGB", image.size, image.getpixel((WINDOW - 1, height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    return image.crop((0, 0, WINDOW, min(height, box[3] + 20))) if box else image


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    page = report.save(out / "report.html")
    whole = shoot(page, out / "report-full.png", TALL)
    (out / "report-full.png").unlink()
    for i, top in enumerate(range(0, whole.height, TILE), 1):
        whole.crop((0, top, WINDOW, min(top + TILE, whole.height))).save(
            out / f"report-{i:02d}.png")
    print(f"{page}: {page.stat().st_size / 1e3:,.0f} kB; page {whole.height:,} px high "
          f"-> {out}/report-NN.png ({-(-whole.height // TILE)} tiles)")

    fragment = report._repr_html_()
    model = clinicsim.default_model()._repr_html_()
    notebook = out / "notebook.html"
    notebook.write_text(NOTEBOOK_PAGE.format(report=fragment, model=model), encoding="utf-8")
    shoot(notebook, out / "notebook.png", 6000).save(out / "notebook.png")
    print(f"notebook display: report {len(fragment.encode()):,} bytes, model "
          f"{len(model.encode()):,} bytes -> {out}/notebook.png")

    print(f"\nfigures (shown at their own size up to {DPI * WIDTH:.0f} px wide)")
    print(f"{'figure':<16}{'width px':>10}{'height px':>11}{'SVG kB':>9}")
    for key, fig in report.figures().items():
        print(f"{key:<16}{fig.width:>10.0f}{fig.height:>11.0f}{len(fig.svg) / 1e3:>9.0f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/screenshots"))

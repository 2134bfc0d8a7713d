"""Draw the README's picture with the kit's own code: python docs/images/make_images.py (from the repository root).

The diagram is read from the built model (its layers, channels, pools and shapes), so it stays true to the kit.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the checkout's helpers, also when the kit is not installed

from helpers.figures.diagrams import vgg_figure  # noqa: E402


def main() -> None:
    fig = vgg_figure("vgg16", input_shape=(32, 32, 3))
    fig.savefig(HERE / "vgg16.png", dpi=110, bbox_inches="tight", metadata={"Software": None})


if __name__ == "__main__":
    main()

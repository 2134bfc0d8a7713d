"""A picture of every idea, drawn by code from the kit's own models, so each picture stays true to them.

* ``draw_graph(model)``: any small functional Keras model (a block, a module) as a top-to-bottom graph;
* ``residual_blocks_figure()``, ``inception_figure(name)``: the kit's ResNet blocks and inception module;
* ``vgg_figure(name)``, ``resnet_stages_figure(name)``, ``googlenet_figure()``: whole networks, read from
  the built models (channels, pools, strides, shapes); ``plain_vs_residual_figure(depth)``: ResNet Fig. 3;
* ``split_figure(...)``: a dataset's train / validation / test split.

Each function returns a matplotlib ``Figure`` made without pyplot (nothing to close, shown once as a cell's
PNG in JupyterLab, Colab and the PDF report). Drawings use inches: one axes spans the whole figure.
"""

from helpers.figures.diagrams.googlenet import googlenet_figure
from helpers.figures.diagrams.graphs import draw_graph, inception_figure, residual_blocks_figure
from helpers.figures.diagrams.networks import vgg_figure
from helpers.figures.diagrams.resnets import plain_vs_residual_figure, resnet_stages_figure
from helpers.figures.diagrams.splits import split_figure

__all__ = [
    "draw_graph",
    "googlenet_figure",
    "inception_figure",
    "plain_vs_residual_figure",
    "residual_blocks_figure",
    "resnet_stages_figure",
    "split_figure",
    "vgg_figure",
]

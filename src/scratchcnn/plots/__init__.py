"""Plots as PNG files (Matplotlib's Agg backend, no pyplot: nothing opens a window).

training.py     learning curves and the confusion matrix
filters.py      the first layer's filters, every convolution block's feature maps
attribution.py  saliency maps and class activation maps (Grad-CAM)
errors.py       misclassified images with true and predicted labels
diagnostics.py  per-layer training health recorded by ``callbacks.Diagnostics``

Each function takes the model (and its inputs, where it needs them) and a ``path``, writes
one PNG there and returns the path.
"""

from scratchcnn.plots.attribution import plot_class_activation, plot_saliency
from scratchcnn.plots.diagnostics import plot_diagnostics
from scratchcnn.plots.errors import plot_misclassified
from scratchcnn.plots.filters import plot_feature_maps, plot_filters
from scratchcnn.plots.training import confusion_matrix, plot_confusion_matrix, plot_learning_curves

__all__ = [
    "confusion_matrix",
    "plot_class_activation",
    "plot_confusion_matrix",
    "plot_diagnostics",
    "plot_feature_maps",
    "plot_filters",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_saliency",
]

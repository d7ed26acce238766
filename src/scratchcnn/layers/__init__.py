"""Stateful layers: each ``forward`` caches what its ``backward`` needs."""

from scratchcnn.layers.base import LAYER_REGISTRY, Layer

# Each module adds its names here when it exists (one line per module):
# conv: from scratchcnn.layers.conv import Conv1d, Conv2d, SimpleConv1d
# pooling: from scratchcnn.layers.pooling import AvgPool1d, AvgPool2d, GlobalAvgPool2d, MaxPool1d, MaxPool2d
# dense: from scratchcnn.layers.dense import Dense
# flatten: from scratchcnn.layers.flatten import Flatten
# activations: from scratchcnn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
# dropout: from scratchcnn.layers.dropout import Dropout
# normalization: from scratchcnn.layers.normalization import BatchNorm2d

__all__ = ["LAYER_REGISTRY", "Layer"]

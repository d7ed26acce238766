"""Stateful layers: each ``forward`` caches what its ``backward`` needs."""

from scratchcnn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from scratchcnn.layers.base import LAYER_REGISTRY, Layer
from scratchcnn.layers.concat import Concat
from scratchcnn.layers.conv import Conv1d, Conv2d, SimpleConv1d
from scratchcnn.layers.dense import Dense
from scratchcnn.layers.dropout import Dropout
from scratchcnn.layers.flatten import Flatten
from scratchcnn.layers.normalization import BatchNorm2d
from scratchcnn.layers.pooling import (
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from scratchcnn.layers.residual import PadChannelsShortcut, Residual

__all__ = [
    "LAYER_REGISTRY",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm2d",
    "Concat",
    "Conv1d",
    "Conv2d",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2d",
    "Layer",
    "LeakyReLU",
    "MaxPool1d",
    "MaxPool2d",
    "PadChannelsShortcut",
    "ReLU",
    "Residual",
    "Sigmoid",
    "SimpleConv1d",
    "Softmax",
    "Tanh",
]

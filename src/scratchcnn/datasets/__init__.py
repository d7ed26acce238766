"""Datasets: MNIST-format IDX files, scikit-learn's 8x8 digits, CSV, MNIST-1D."""

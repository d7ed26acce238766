"""ScratchCNNClassifier under joblib worker processes: GridSearchCV(n_jobs=2).

joblib's default backend (loky) starts worker processes and limits the BLAS and OpenMP
threads of each to cpu_count() // n_jobs (at least 1) through OMP_NUM_THREADS and friends,
so two workers on two cores do not each start two BLAS threads.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from scratchcnn.classifier import ScratchCNNClassifier


def _blas_threads_within_the_workers_share(estimator, X, y) -> float:
    """A scorer that fails when a worker's BLAS runs more threads than its share.

    Only in a joblib worker process: the test's own process (n_jobs=1) keeps all its threads.
    """
    import multiprocessing

    from threadpoolctl import threadpool_info

    if multiprocessing.parent_process() is None:
        return float(np.mean(estimator.predict(X) == y))
    share = max(1, (os.cpu_count() or 1) // 2)
    threads = [pool["num_threads"] for pool in threadpool_info()]
    if any(n > share for n in threads):
        raise AssertionError(f"a worker runs BLAS with {threads} threads, above its share {share}")
    return float(np.mean(estimator.predict(X) == y))


def test_grid_search_with_two_worker_processes_matches_one_process() -> None:
    digits = load_digits()
    X, y = digits.data[:300] / 16.0, digits.target[:300]
    grid = {"lr": [1e-3, 1e-2]}

    def search(n_jobs: int, scoring=None) -> GridSearchCV:
        clf = ScratchCNNClassifier(epochs=2, image_shape=(8, 8), channels=(4, 8), random_state=0)
        return GridSearchCV(clf, grid, cv=2, n_jobs=n_jobs, scoring=scoring, error_score="raise")

    parallel = search(2, scoring=_blas_threads_within_the_workers_share).fit(X, y)
    serial = search(1, scoring=_blas_threads_within_the_workers_share).fit(X, y)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert parallel.best_params_ == serial.best_params_
    assert parallel.predict(X[:5]).shape == (5,)

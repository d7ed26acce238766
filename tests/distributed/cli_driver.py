"""``python cli_driver.py ARGS...``: the scratchcnn CLI, with a fault for the tests.

``KILL_RANK1_AT_STEP=S`` makes rank 1 kill itself with SIGKILL when it starts its S-th
training step (counted over all epochs), as a crashed node would.
"""

from __future__ import annotations

import os
import signal
import sys

from scratchcnn import cli, distributed
from scratchcnn.model import training

kill_at = int(os.environ.get("KILL_RANK1_AT_STEP", "0"))
if kill_at and distributed.rank() == 1:
    original = training.TrainingMixin._train_step
    steps = [0]

    def _train_step(self, *args, **kwargs):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)

    training.TrainingMixin._train_step = _train_step

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))

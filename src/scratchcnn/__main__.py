"""``python -m scratchcnn``: the same command line as the ``scratchcnn`` console script."""

from scratchcnn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

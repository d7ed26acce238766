"""The learner's lab: tools that show what a model computes and how it trains.

``explain`` (the notebooks' size arithmetic for any model), ``estimate`` (a pre-flight cost
estimate), ``diagnostics`` (per-layer health while training). The whole-model gradient check
is ``scratchcnn.gradcheck.check_gradients``; the pictures are in ``scratchcnn.plots``.
"""

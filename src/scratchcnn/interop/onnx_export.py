DEFAULT_OPSET = 17
def export_onnx(*a, **k): raise NotImplementedError

"""The way out: PyTorch modules and state dicts, and ONNX files.

``to_torch(model)`` / ``from_torch(module)`` convert between a scratchcnn ``Sequential`` and
a ``torch.nn.Sequential``; ``state_dict`` / ``load_state_dict`` move weights under torch's
names; ``export_onnx(model, path)`` writes an ONNX file. torch, onnx and onnxruntime are
optional: each is imported only when a function needs it.
"""

from scratchcnn.interop.onnx_export import DEFAULT_OPSET, export_onnx
from scratchcnn.interop.torch_convert import from_torch, to_torch
from scratchcnn.interop.torch_names import IncompatibleKeys, load_state_dict, state_dict

__all__ = [
    "DEFAULT_OPSET",
    "IncompatibleKeys",
    "export_onnx",
    "from_torch",
    "load_state_dict",
    "state_dict",
    "to_torch",
]

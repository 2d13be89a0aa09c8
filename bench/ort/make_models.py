"""One-op ONNX models for the ONNX Runtime comparison (bench/sections/ort.ts).

Usage: python3 make_models.py OUT_DIR. Writes one model per norm (every parameter a graph input,
so both engines get the same data) plus `add.onnx` (x + 1), ORT's own memory yardstick.
IR version 11: onnx 1.23 writes IR 14 by default, which ONNX Runtime 1.31 refuses.
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

EPS = 1e-5
F = TensorProto.FLOAT


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def save(out, name, node, inputs, shape, opset, inits=()):
    graph = helper.make_graph([node], name, [vi(n, s) for n, s in inputs], [vi('y', shape)], list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], ir_version=11)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + '.onnx'))


def main(out):
    os.makedirs(out, exist_ok=True)
    ln = [16, 128, 768]
    nchw = [8, 64, 32, 32]
    c = nchw[1]
    save(out, 'layer_norm', helper.make_node('LayerNormalization', ['x', 'gamma', 'beta'], ['y'], axis=-1, epsilon=EPS),
         [('x', ln), ('gamma', [ln[-1]]), ('beta', [ln[-1]])], ln, 17)
    save(out, 'instance_norm', helper.make_node('InstanceNormalization', ['x', 'gamma', 'beta'], ['y'], epsilon=EPS),
         [('x', nchw), ('gamma', [c]), ('beta', [c])], nchw, 17)
    save(out, 'group_norm', helper.make_node('GroupNormalization', ['x', 'gamma', 'beta'], ['y'], num_groups=32,
                                              epsilon=EPS),
         [('x', nchw), ('gamma', [c]), ('beta', [c])], nchw, 21)
    save(out, 'batch_norm', helper.make_node('BatchNormalization', ['x', 'gamma', 'beta', 'mean', 'variance'], ['y'],
                                              epsilon=EPS),
         [('x', nchw), ('gamma', [c]), ('beta', [c]), ('mean', [c]), ('variance', [c])], nchw, 15)
    save(out, 'rms_norm', helper.make_node('RMSNormalization', ['x', 'gamma'], ['y'], axis=-1, epsilon=EPS),
         [('x', ln), ('gamma', [ln[-1]])], ln, 23)
    for name, shape in (('add_ln', ln), ('add_nchw', nchw)):
        one = helper.make_tensor('one', F, [], [1.0])
        save(out, name, helper.make_node('Add', ['x', 'one'], ['y']), [('x', shape)], shape, 17, [one])


if __name__ == '__main__':
    main(sys.argv[1])

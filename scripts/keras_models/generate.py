#!/usr/bin/env python3
"""Builds the Keras test models of test/fixtures/keras with the official TensorFlow.js converter.

Each model is saved with `tensorflowjs.converters.save_keras_model` (a tfjs layers model:
model.json + weight shards, exactly what Keras users hand to tfjs) next to `predictions.json`:
inputs and Keras's own `model.predict` outputs. The tests (test/convert/keras_models.test.ts)
load these folders; CI never needs TensorFlow. See scripts/keras_models/README.md for setup.

Models:
  mobilenet_v2   keras.applications.MobileNetV2 (alpha 0.35, 32x32 input, 10 logits, no
                 pretrained weights): 52 channels-last BatchNormalization layers.
  channels_first Conv2D(data_format='channels_first') + BatchNormalization(axis=1) and
                 LayerNormalization over [1, 2, 3] and [3], plus a rank-2 BatchNormalization.
Every BatchNormalization gets random moving statistics, gamma and beta (seeded), and every
LayerNormalization random gamma/beta, so the files exercise the math, not the initial values.
"""
import json
import os
import sys
import types

# Legacy Keras 2 (tf-keras): what tensorflowjs 4.22's converter reads.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def _stand_in(name, **attrs):
  module = types.ModuleType(name)
  module.__dict__.update(attrs)
  sys.modules[name] = module
  return module


# `import tensorflowjs` imports the SavedModel and JAX converters, which import these packages;
# the Keras converter used here never calls them. Stand-ins keep the install to
# `pip install --no-deps tensorflowjs` (the real packages pull another TensorFlow).
def _install_stand_ins():
  try:
    import tensorflow_decision_forests  # noqa: F401
  except ImportError:
    _stand_in('tensorflow_decision_forests')
  try:
    from jax.experimental import jax2tf  # noqa: F401
  except ImportError:
    jax = _stand_in('jax')
    experimental = _stand_in('jax.experimental')
    jax2tf = _stand_in('jax.experimental.jax2tf')
    jax.experimental = experimental
    experimental.jax2tf = jax2tf


_install_stand_ins()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
import tensorflowjs as tfjs  # noqa: E402

SEED = 7
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', '..', 'test', 'fixtures', 'keras'))


def randomize_norm_weights(model, rng):
  """Non-trivial gamma, beta and moving statistics for every normalization layer."""
  for layer in model.layers:
    if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization)):
      new = []
      for w in layer.weights:
        name = w.name.split('/')[-1].split(':')[0]
        shape = w.shape
        if name == 'gamma':
          v = rng.uniform(0.5, 1.5, shape)
        elif name == 'beta':
          v = rng.normal(0, 0.2, shape)
        elif name == 'moving_mean':
          v = rng.normal(0, 0.3, shape)
        elif name == 'moving_variance':
          v = rng.uniform(0.5, 2.0, shape)
        else:
          raise ValueError(f'unexpected weight {w.name}')
        new.append(v.astype(np.float32))
      layer.set_weights(new)


def mobilenet_v2():
  return keras.applications.MobileNetV2(
      input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10, classifier_activation=None)


def channels_first():
  x = keras.Input((3, 8, 8), name='image')
  h = keras.layers.Conv2D(8, 3, padding='same', data_format='channels_first', name='conv_a')(x)
  h = keras.layers.BatchNormalization(axis=1, name='bn_nchw')(h)
  h = keras.layers.ReLU(name='relu')(h)
  h = keras.layers.Conv2D(6, 3, padding='same', data_format='channels_first', use_bias=False, name='conv_b')(h)
  h = keras.layers.BatchNormalization(axis=1, center=False, epsilon=1e-4, name='bn_nchw_no_center')(h)
  h = keras.layers.LayerNormalization(axis=[1, 2, 3], name='ln_chw')(h)
  h = keras.layers.LayerNormalization(name='ln_last')(h)
  h = keras.layers.Flatten(name='flatten')(h)
  h = keras.layers.Dense(5, name='dense')(h)
  y = keras.layers.BatchNormalization(scale=False, name='bn_dense')(h)
  return keras.Model(x, y, name='channels_first')


def predict(model, x):
  try:
    return model.predict(x, verbose=0)
  except Exception as e:  # TensorFlow's CPU kernels have no NCHW Conv2D; XLA's do.
    print(f'{model.name}: plain predict failed ({type(e).__name__}), predicting with XLA')
    return tf.function(lambda t: model(t, training=False), jit_compile=True)(tf.constant(x)).numpy()


def write(name, model, batch, rng):
  folder = os.path.join(OUT, name)
  os.makedirs(folder, exist_ok=True)
  for f in os.listdir(folder):
    os.remove(os.path.join(folder, f))
  randomize_norm_weights(model, rng)
  # Inputs with three decimals keep predictions.json small; outputs keep float32's 9 digits.
  x = np.round(rng.normal(0, 1, (batch,) + tuple(model.input_shape[1:])), 3).astype(np.float32)
  y = predict(model, x).astype(np.float32)
  tfjs.converters.save_keras_model(model, folder)
  with open(os.path.join(folder, 'predictions.json'), 'w') as f:
    json.dump({
      'generatedBy': f'scripts/keras_models/generate.py: tensorflow {tf.__version__}, tf_keras {keras.__version__}, '
                     f'tensorflowjs {tfjs.__version__}',
      'inputShape': list(x.shape), 'input': [float(f'{v:.3f}') for v in x.reshape(-1)],
      'outputShape': list(y.shape), 'output': [float(f'{v:.9g}') for v in y.reshape(-1)],
    }, f)
  size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
  bns = sum(isinstance(l, keras.layers.BatchNormalization) for l in model.layers)
  print(f'{name}: {bns} BatchNormalization layers, {model.count_params()} parameters, {size / 1024:.0f} KiB in {folder}')


def main():
  tf.keras.utils.set_random_seed(SEED)
  rng = np.random.default_rng(SEED)
  write('mobilenet_v2', mobilenet_v2(), 2, rng)
  write('channels_first', channels_first(), 3, rng)


if __name__ == '__main__':
  main()

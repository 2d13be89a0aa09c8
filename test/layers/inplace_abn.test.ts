/**
 * The inPlaceABN layer in models: conversion from BatchNormalization + LeakyReLU/ELU pairs,
 * training with and without a residual consumer of its input, and the memory it releases.
 */
import * as tf from '@tensorflow/tfjs';
import {convert, layers} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

function plainBlocks(residual: boolean): tf.LayersModel {
  const input = tf.input({shape: [8, 8, 4]});
  let h = input;
  for (let i = 0; i < 3; i++) {
    const c = tf.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.heNormal({seed: i})})
        .apply(h) as tf.SymbolicTensor;
    const b = tf.layers.batchNormalization({}).apply(c) as tf.SymbolicTensor;
    const a = (i === 1 ? tf.layers.elu({}) : tf.layers.leakyReLU({alpha: 0.1})).apply(b) as tf.SymbolicTensor;
    h = residual ? tf.layers.add().apply([a, c]) as tf.SymbolicTensor : a;
  }
  const out = tf.layers.dense({units: 2}).apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: out});
}

test.each([false, true])('toInPlaceABN fuses BN + activation pairs (residual %s), same predictions', async (residual) => {
  const model = plainBlocks(residual);
  const x = tf.randomNormal([4, 8, 8, 4], 0, 1, 'float32', 1);
  tf.tidy(() => { model.apply(x, {training: true}); });
  const fused = await convert.toInPlaceABN(model);
  const names = fused.layers.map((l) => l.getClassName());
  expect(names.filter((n) => n === 'InPlaceABN').length).toBe(3);
  expect(names).not.toContain('LeakyReLU');
  expect(names).not.toContain('ELU');
  expect((fused.layers.find((l) => l.getClassName() === 'InPlaceABN') as layers.InPlaceABN).activation).toBe('leakyRelu');
  const a = model.predict(x) as tf.Tensor;
  const b = fused.predict(x) as tf.Tensor;
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
  // And it trains: with a residual branch the layer must keep its input.
  fused.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
  const h = await fused.fit(x, tf.ones([4, 2]), {epochs: 4, verbose: 0});
  const losses = h.history.loss as number[];
  expect(losses[3]).toBeLessThan(losses[0]);
});

test('the layer releases its input in the forward pass where it is the only consumer', async () => {
  const block = (inPlace: boolean) => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({inputShape: [16, 16, 8], filters: 8, kernelSize: 3, padding: 'same',
      kernelInitializer: tf.initializers.heNormal({seed: 3})}));
    for (let i = 0; i < 4; i++) {
      m.add(layers.inPlaceABN({inPlace}));
      m.add(tf.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.heNormal({seed: i})}));
    }
    return m;
  };
  const x = tf.randomNormal([8, 16, 16, 8], 0, 1, 'float32', 4);
  // Peak of a training-mode forward pass: without the release every conv output stays alive
  // until the pass ends.
  const peak = async (m: tf.LayersModel) => (await tf.profile(() => {
    tf.tidy(() => { m.apply(x, {training: true}); });
  })).peakBytes;
  const released = await peak(block(true));
  const kept = await peak(block(false));
  // Four 8×16×16×8 float32 activations (64 KiB each) are not held through the backward pass.
  expect(kept - released).toBeGreaterThanOrEqual(3 * 8 * 16 * 16 * 8 * 4);
});

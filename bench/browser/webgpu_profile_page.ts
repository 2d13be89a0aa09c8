/**
 * Profiling page (dev tool): times single WGSL programs of the webgpu kernels next to x.add(1),
 * interleaved, on the shapes of the benchmarks.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgpu.js';
import {timeInterleaved} from '../interleave.js';
import {startWebgpu} from '../../test/webgpu/gpu_env.js';
import {applyProgram, backwardApplyProgram, columnPartialProgram, slotReduceProgram, slotTableProgram, statsProgram, channelReduceProgram} from '../../kernels/webgpu/norm_programs.js';
import {asWebGPU} from '../../kernels/webgpu/program.js';
import {normView} from '../../src/norm_view.js';
import type {NormApplyAttrs} from '../../src/kernel_names.js';

async function sync(ts: tf.Tensor[]): Promise<void> {
  for (const t of ts) {
    const one = tf.slice(t.reshape([-1]), [0], [1]);
    await one.data();
    one.dispose();
  }
}

const T = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);

async function run(): Promise<string[]> {
  await startWebgpu();
  const out: string[] = [];
  const b = asWebGPU(tf.backend());
  const cfgs: Array<[string, number[], Partial<NormApplyAttrs>]> = [
    ['BN NCHW', [8, 64, 32, 32], {layout: 'NCS', groups: 64, perSample: false}],
    ['GN NCHW', [8, 64, 32, 32], {layout: 'NCS', groups: 32, perSample: true}],
    ['IN NCHW', [8, 64, 32, 32], {layout: 'NCS', groups: 64, perSample: true}],
    ['IN NHWC', [8, 32, 32, 64], {layout: 'NSC', groups: 64, perSample: true}],
    ['LN', [16, 128, 768], {layout: 'NSC', groups: 1, perSample: true, batchAxes: 2}],
  ];
  for (const [name, shape, part] of cfgs) {
    const a = {batchAxes: 1, channelAxes: 1, epsilon: 1e-5, activation: 'linear', alpha: 0, ...part} as NormApplyAttrs;
    const x = tf.randomNormal(shape).add(0);
    const v = normView(x.shape, a);
    const C = v.C;
    const g = tf.ones([C]).add(0);
    const be = tf.zeros([C]).add(0);
    const st = T(statsProgram(b, x, v, a));
    const mean = tf.slice(st, [0], [v.slots]);
    const variance = tf.slice(st, [v.slots], [v.slots]);
    const dy = tf.randomNormal(shape).add(0);
    const s = {mean, variance, gamma: g, beta: be};
    const src = {src: x, fromOutput: false};
    const fns = {
      add: () => tf.add(x, 1),
      stats: () => T(statsProgram(b, x, v, a)),
      apply: () => T(applyProgram(b, x, {mean, variance, gamma: g, beta: be}, v, a)),
      bwdKernel: () => tf.engine().runKernel('NormsBackwardTraining', {dy, x, mean, variance, gamma: g, beta: be}, a as never) as tf.Tensor[],
      chan: () => T(v.channelsLast ? columnPartialProgram(b, x, {stats: false, dy, src, s}, v, a) : channelReduceProgram(b, dy, src, s, v, a)),
      slotRed: () => T(slotReduceProgram(b, dy, src, s, v, a)),
      bwdApply: () => { const tb = slotTableProgram(b, s, {training: false, count: v.count}, v, a); const r = T(backwardApplyProgram(b, src, s, dy, tb, v, a)); b.disposeData(tb.dataId); return r; },
      kernelFwd: () => tf.engine().runKernel('NormsNormalizeTraining', {x, gamma: g, beta: be}, a as never) as tf.Tensor[],
      opFwd: () => name.startsWith('BN') ? norms.batchNorm(x, {training: true, gamma: g, beta: be, dataFormat: 'NCHW'}).y
        : name === 'LN' ? norms.layerNorm(x, {gamma: g, beta: be}) : name.startsWith('GN') ? norms.groupNorm(x, {groups: 32, gamma: g, beta: be, dataFormat: 'NCHW'})
        : norms.instanceNorm(x, {gamma: g, beta: be, dataFormat: name.endsWith('NHWC') ? 'NHWC' : 'NCHW'}),
    };
    const t = await timeInterleaved(tf as never, fns as never, sync as never, {warmup: 2, minRuns: 7, minMs: 1500});
    out.push(`${name} ${Object.entries(t).map(([k, ms]) => `${k} ${(ms / t.add).toFixed(2)}`).join('  ')}  (add ${t.add.toFixed(1)} ms)`);
    tf.dispose([x, g, be, st, mean, variance, dy]);
  }
  return out;
}

declare global {
  interface Window {
    normsProfile: {run: typeof run};
  }
}
window.normsProfile = {run};

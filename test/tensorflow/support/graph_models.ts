/**
 * Small TensorFlow graph models written by hand in the format tensorflowjs_converter produces
 * (a GraphDef in JSON, `Const` values in the weights), for the FusedBatchNorm* tests
 * (tensorflow/tfjs#6864).
 */
import type {io} from '@tensorflow/tfjs-core';

type Attr = Record<string, unknown>;
interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Attr>;
}

const FLOAT = {type: 'DT_FLOAT'};
const INT32 = {type: 'DT_INT32'};
const str = (s: string): Attr => ({s: Buffer.from(s).toString('base64')});

/** Builds model artifacts (topology + weights) node by node. */
class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  private readonly specs: io.WeightsManifestEntry[] = [];
  private readonly buffers: Buffer[] = [];

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({name, op: 'Placeholder', attr: {
      dtype: FLOAT, shape: {shape: {dim: shape.map((d) => ({size: String(d)}))}},
    }});
    return name;
  }

  const(name: string, values: number[], shape: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    this.nodes.push({name, op: 'Const', attr: {
      dtype: dtype === 'float32' ? FLOAT : INT32,
      value: {tensor: {dtype: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32',
        tensorShape: {dim: shape.map((d) => ({size: String(d)}))}}},
    }});
    this.specs.push({name, shape, dtype});
    const data = dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
    this.buffers.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return name;
  }

  node(name: string, op: string, input: string[], attr: Record<string, Attr> = {}): string {
    this.nodes.push({name, op, input, attr});
    return name;
  }

  /** `FusedBatchNorm*` with TensorFlow's attributes. */
  fusedBatchNorm(name: string, op: string, inputs: string[], o: {training: boolean; format: string;
      epsilon?: number; factor?: number}): string {
    const attr: Record<string, Attr> = {
      T: FLOAT, epsilon: {f: o.epsilon ?? 0.001}, data_format: str(o.format),
      // proto3 JSON leaves out false.
      is_training: o.training ? {b: true} : {},
    };
    if (op !== 'FusedBatchNorm') attr.U = FLOAT;
    if (op === 'FusedBatchNormV3') attr.exponential_avg_factor = {f: o.factor ?? 1};
    return this.node(name, op, inputs, attr);
  }

  artifacts(): io.ModelArtifacts {
    const weightData = Buffer.concat(this.buffers);
    return {
      format: 'graph-model', generatedBy: '2.16.2', convertedBy: 'tfjs-norms tests (hand-written)',
      modelTopology: {node: this.nodes, library: {}, versions: {producer: 1482}},
      weightSpecs: this.specs,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    };
  }
}

/**
 * `x` → `op` (`is_training` as given) → `Identity`, with per-channel scale and offset, and
 * empty mean/variance in training (what TensorFlow's graphs hold) or the given ones.
 */
export function batchNormModel(o: {op: string; shape: number[]; format: 'NHWC' | 'NCHW'; training: boolean;
    scale: number[]; offset: number[]; mean?: number[]; variance?: number[]; epsilon?: number;
    factor?: number}): io.ModelArtifacts {
  const g = new GraphBuilder();
  const x = g.placeholder('x', o.shape);
  const scale = g.const('bn/scale', o.scale, [o.scale.length]);
  const offset = g.const('bn/offset', o.offset, [o.offset.length]);
  const mean = g.const('bn/mean', o.mean ?? [], [o.mean?.length ?? 0]);
  const variance = g.const('bn/variance', o.variance ?? [], [o.variance?.length ?? 0]);
  const bn = g.fusedBatchNorm('bn', o.op, [x, scale, offset, mean, variance],
    {training: o.training, format: o.format, epsilon: o.epsilon, factor: o.factor});
  g.node('y', 'Identity', [bn], {T: FLOAT});
  return g.artifacts();
}

/**
 * Keras' `LayerNormalization` over the last axis as TensorFlow 2 traces it: `x` reshaped to
 * `[1, rows, features, 1]`, a training-mode `FusedBatchNormV3` in NCHW with ones and zeros of
 * length `rows` (from the dynamic shape) and empty mean/variance, reshaped back, then
 * `* gamma + beta`.
 */
export function kerasLayerNormModel(o: {features: number; gamma: number[]; beta: number[]; epsilon: number}):
    io.ModelArtifacts {
  const g = new GraphBuilder();
  const x = g.placeholder('x', [-1, -1, o.features]);
  const squeezed = g.node('ln/Reshape', 'Reshape', [x, g.const('ln/Reshape/shape', [1, -1, o.features, 1], [4], 'int32')],
    {T: FLOAT, Tshape: INT32});
  const shape = g.node('ln/Shape', 'Shape', [squeezed], {T: FLOAT, out_type: INT32});
  const rows = g.node('ln/strided_slice', 'StridedSlice', [shape,
    g.const('ln/strided_slice/stack', [1], [1], 'int32'), g.const('ln/strided_slice/stack_1', [2], [1], 'int32'),
    g.const('ln/strided_slice/stack_2', [1], [1], 'int32')],
  {T: INT32, Index: INT32, begin_mask: {}, end_mask: {}, ellipsis_mask: {}, new_axis_mask: {}, shrink_axis_mask: {}});
  const ones = g.node('ln/ones', 'Fill', [rows, g.const('ln/ones/Const', [1], [])], {T: FLOAT, index_type: INT32});
  const zeros = g.node('ln/zeros', 'Fill', [rows, g.const('ln/zeros/Const', [0], [])], {T: FLOAT, index_type: INT32});
  const empty = g.const('ln/Const', [], [0]);
  const bn = g.fusedBatchNorm('ln/FusedBatchNormV3', 'FusedBatchNormV3', [squeezed, ones, zeros, empty, empty],
    {training: true, format: 'NCHW', epsilon: o.epsilon});
  const back = g.node('ln/Reshape_1', 'Reshape', [bn, g.node('ln/Shape_1', 'Shape', [x], {T: FLOAT, out_type: INT32})],
    {T: FLOAT, Tshape: INT32});
  const scaled = g.node('ln/mul', 'Mul', [back, g.const('ln/gamma', o.gamma, [o.features])], {T: FLOAT});
  const shifted = g.node('ln/add', 'AddV2', [scaled, g.const('ln/beta', o.beta, [o.features])], {T: FLOAT});
  g.node('y', 'Identity', [shifted], {T: FLOAT});
  return g.artifacts();
}

/** Save/load helpers for layer tests: model.save to memory and back. */
import type * as tfType from '@tensorflow/tfjs';

type TF = typeof tfType;

export async function saveToMemory(tf: TF, model: tfType.LayersModel): Promise<tfType.io.ModelArtifacts> {
  let artifacts: tfType.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return artifacts!;
}

/** A Keras-style Sequential model.json (snake_case) with one layer after the input, and its weights. */
export function kerasSequential(tf: TF, inputShape: number[], layer: {class_name: string; config: Record<string, unknown>},
                                weights: Record<string, tfType.Tensor>): tfType.io.IOHandler {
  const name = layer.config.name as string;
  const weightSpecs = Object.entries(weights).map(([w, t]) => ({name: `${name}/${w}`, shape: t.shape, dtype: 'float32' as const}));
  const data = new Float32Array(Object.values(weights).flatMap((t) => Array.from(t.dataSync())));
  return tf.io.fromMemory({
    modelTopology: {
      class_name: 'Sequential',
      config: {name: 'keras_model', layers: [
        {class_name: 'InputLayer', config: {batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false, name: 'input_1'}},
        layer,
      ]},
      keras_version: '3.6.0', backend: 'tensorflow',
    },
    weightSpecs, weightData: data.buffer,
  });
}

export const DTYPE_POLICY = {module: 'keras', class_name: 'DTypePolicy', config: {name: 'float32'}, registered_name: null};

/** In-page helpers shared by the benchmark pages: start webgl, and describe the browser and GPU. */
import * as tf from '@tensorflow/tfjs';

/** Makes webgl the backend; a context without float32 render targets is not benchmarked. */
export async function startWebgl(): Promise<void> {
  await tf.setBackend('webgl');
  await tf.ready();
  if (!tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) throw new Error('webgl backend without float32 render targets');
}

function renderer(): string {
  const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}}).gpgpu.gl;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

/** The environment line of a webgl section: browser, renderer, CPU threads, tfjs. */
export function environment(): string {
  const ua = navigator.userAgent.match(/Chrom(e|ium)\/([\d.]+)/);
  return `Chromium ${ua ? ua[2] : '?'} headless, WebGL 2 on ${renderer()}, ` +
    `${navigator.hardwareConcurrency} CPU threads, tfjs ${tf.version.tfjs}`;
}

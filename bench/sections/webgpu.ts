/**
 * The webgpu section: every workload on tfjs-backend-webgpu inside Debian's headless Chromium
 * (WebGPU on the SwiftShader adapter, i.e. on the CPU cores), driven by playwright-core.
 */
import type {Row, SectionResult} from '../report.js';
import type {TimeOptions} from '../interleave.js';
import {buildPage, openPage} from '../browser/driver.js';

export async function runWebgpu(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  const html = await buildPage('bench/browser/webgpu_page.ts', '.cache/bench-webgpu');
  const bp = await openPage(html, (line) => {
    if (line.startsWith('webgpu ')) log(line);
  }, {webgpu: true});
  try {
    const only = process.env.TFJS_NORMS_BENCH_ONLY;
    const r = await bp.page.evaluate(([o, f]) => window.normsBenchWebgpu.run(o, f), [opts, only] as const);
    return {section: 'webgpu', backend: 'webgpu', environment: r.environment,
      date: new Date().toISOString().slice(0, 10), rows: r.rows as Row[]};
  } finally {
    await bp.close();
  }
}

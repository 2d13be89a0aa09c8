/**
 * The webgl section: every workload on tfjs's webgl backend inside Debian's headless Chromium
 * (WebGL 2 on SwiftShader, i.e. on the CPU cores), driven by playwright-core.
 */
import type {Row, SectionResult} from '../report.js';
import type {TimeOptions} from '../interleave.js';
import {buildPage, openPage} from '../browser/driver.js';

export async function runWebgl(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  const html = await buildPage('bench/browser/webgl_page.ts', '.cache/bench-webgl');
  const bp = await openPage(html, (line) => {
    if (line.startsWith('webgl ')) log(line);
  });
  try {
    const only = process.env.TFJS_NORMS_BENCH_ONLY;
    const r = await bp.page.evaluate(([o, f]) => window.normsBench.run(o, f), [opts, only] as const);
    return {section: 'webgl', backend: 'webgl', environment: r.environment,
      date: new Date().toISOString().slice(0, 10), rows: r.rows as Row[]};
  } finally {
    await bp.close();
  }
}

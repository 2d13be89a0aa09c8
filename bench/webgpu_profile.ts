/**
 * `npx tsx bench/webgpu_profile.ts`: single WGSL programs of the webgpu kernels (statistics, apply,
 * the backward reductions and apply, whole kernels and ops) on the benchmark shapes, each as a
 * multiple of an interleaved `x.add(1)` of the same size (bench/browser/webgpu_profile_page.ts).
 * A developer's tool for finding the dispatches that dominate; not part of `npm run bench`.
 */
import {buildPage, openPage} from './browser/driver.js';

const html = await buildPage('bench/browser/webgpu_profile_page.ts', '.cache/bench-webgpu-profile');
const bp = await openPage(html, undefined, {webgpu: true});
try {
  const lines = await bp.page.evaluate(() => window.normsProfile.run());
  console.log(lines.join('\n'));
} catch (e) {
  console.log(String(e), bp.log.join('\n'));
  process.exitCode = 1;
} finally {
  await bp.close();
}

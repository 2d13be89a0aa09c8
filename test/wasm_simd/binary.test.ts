/**
 * The committed WebAssembly SIMD module (kernels/wasm/simd/norm_simd_bytes.ts) is the build of
 * its source (scripts/build-simd.sh with Debian's clang and lld, installed by scripts/setup.sh),
 * and it owns no memory: it works in place on tfjs-backend-wasm's heap, so it may import that
 * memory and nothing else, and have no data segments, no memory of its own and no use of a
 * (shadow-stack) global.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {NORM_SIMD_WASM_BASE64} from '../../kernels/wasm/simd/norm_simd_bytes.js';

const bytes = Buffer.from(NORM_SIMD_WASM_BASE64, 'base64');

/** Section ids of a wasm binary, in order. */
function sectionIds(b: Uint8Array): number[] {
  const ids: number[] = [];
  let i = 8;
  while (i < b.length) {
    const id = b[i++];
    let size = 0, shift = 0, byte: number;
    do {
      byte = b[i++];
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    i += size;
  }
  return ids;
}

test('the committed module is the build of kernels/wasm/simd/norm_simd.c', () => {
  const generated = execFileSync('bash', ['scripts/build-simd.sh', '--print'], {encoding: 'utf8'});
  expect(generated).toBe(readFileSync('kernels/wasm/simd/norm_simd_bytes.ts', 'utf8'));
});

test('it imports tfjs-backend-wasm\'s memory and defines no memory, data or start', () => {
  const module = new WebAssembly.Module(bytes);
  expect(WebAssembly.Module.imports(module)).toEqual([{module: 'env', name: 'memory', kind: 'memory'}]);
  expect(WebAssembly.Module.exports(module).every((e) => e.kind === 'function')).toBe(true);
  const ids = sectionIds(bytes);
  // 5 memory, 8 start, 11 data, 12 data count.
  expect(ids.filter((id) => [5, 8, 11, 12].includes(id))).toEqual([]);
});

test('no instruction touches a global (no shadow stack) or uses f64x2.promote_low_f32x4', () => {
  const dir = mkdtempSync(join(tmpdir(), 'norm-simd-'));
  try {
    const file = join(dir, 'norm_simd.wasm');
    writeFileSync(file, bytes);
    const objdump = ['/usr/lib/llvm-14/bin/llvm-objdump', 'llvm-objdump'].find((p) => {
      try {
        execFileSync(p, ['--version'], {stdio: 'ignore'});
        return true;
      } catch {
        return false;
      }
    });
    if (objdump === undefined) throw new Error('llvm-objdump (Debian package llvm-14, with clang) is needed');
    const text = execFileSync(objdump, ['-d', file], {encoding: 'utf8', maxBuffer: 64 << 20});
    expect(text).toMatch(/f32x4\.add/);
    expect(text.match(/global\.(get|set)|f64x2\.promote_low_f32x4/g)).toBeNull();
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});

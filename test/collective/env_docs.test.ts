/**
 * The deployment examples of docs/distributed.md pass their tools' own checks: the shell blocks
 * (sbatch script, mpirun lines) `bash -n` and shellcheck, the Kubernetes manifest
 * kubernetes-validate --strict against Kubernetes' own schemas (installed by scripts/setup.sh).
 * Each check also rejects a broken copy, so a check that cannot fail would show. No example
 * may put the token on a command line.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {checkedBlocks} from './doc_blocks.js';

const root = join(__dirname, '..', '..');

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tfjs-norms-docs-')); });
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): {code: number; out: string} {
  const r = spawnSync(cmd, args, {encoding: 'utf8', env, timeout: 60000});
  if (r.error) return {code: -1, out: `${cmd}: ${r.error.message} (scripts/setup.sh installs it; npm test runs it)`};
  return {code: r.status ?? -1, out: r.stdout + r.stderr};
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const blocks = checkedBlocks();

test('docs/distributed.md has the three checked examples', () => {
  expect([...blocks.keys()].sort()).toEqual(['k8s', 'mpirun', 'slurm-sbatch']);
});

describe.each(['slurm-sbatch', 'mpirun'])('%s', (name) => {
  test('bash -n and shellcheck pass; a broken copy fails', () => {
    const text = blocks.get(name)!;
    const good = file(`${name}.sh`, text);
    expect(run('bash', ['-n', good])).toEqual({code: 0, out: ''});
    expect(run('shellcheck', ['--shell=bash', '--severity=style', good])).toEqual({code: 0, out: ''});
    const bad = file(`${name}-bad.sh`, text + '\nif [ -n "$MASTER_PORT" ]; then\n  echo $MASTER_ADDR\n');
    expect(run('bash', ['-n', bad]).code).not.toBe(0);
    expect(run('shellcheck', ['--shell=bash', file(`${name}-warn.sh`, text + '\necho $1\n')]).out).toMatch(/SC2086/);
  });

  test('the token reaches the ranks through the environment, never a command line', () => {
    const text = blocks.get(name)!;
    expect(text).toMatch(/export TFJS_NORMS_TOKEN\b/);
    for (const line of text.split('\n').filter((l) => /^\s*(srun|mpirun|mpiexec|node|npx)\b/.test(l))) {
      expect(line).not.toMatch(/TFJS_NORMS_TOKEN=|\$\{?TFJS_NORMS_TOKEN/);
    }
  });
});

describe('Kubernetes manifest', () => {
  const validate = (path: string) => run('python3', ['-m', 'kubernetes_validate', '--strict', path],
                                         {...process.env, PYTHONPATH: join(root, '.cache', 'pytools', 'validate')});

  test('kubernetes-validate --strict passes for the Service and the indexed Job', () => {
    const r = validate(file('train.yaml', blocks.get('k8s')!));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/passed for resource service\/train/);
    expect(r.out).toMatch(/passed for resource job\/train/);
  });

  test('and rejects a misspelt field', () => {
    const broken = blocks.get('k8s')!.replace('completionMode: Indexed', 'completionMod: Indexed');
    expect(broken).not.toBe(blocks.get('k8s'));
    const r = validate(file('broken.yaml', broken));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/completionMod/);
  });

  test('the token comes from a Secret', () => {
    expect(blocks.get('k8s')!).toMatch(/- name: TFJS_NORMS_TOKEN\n\s+valueFrom:\n\s+secretKeyRef:/);
  });
});

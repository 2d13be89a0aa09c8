/**
 * The `tfjs-norms` command line: `run` (the multi-process launcher) and, from the layers issue
 * on, `convert`.
 */
import {Command, InvalidArgumentError} from 'commander';
import {convertModelFile} from './convert_command.js';
import {DEFAULT_GRACE_MS, launch} from './launch.js';
import {setupNodeCommand} from './setup_node_command.js';
import {version} from '../version.js';

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command('tfjs-norms').version(version).enablePositionalOptions();
  program.command('run')
    .description('start N Node processes for data-parallel training with SyncBatchNorm (like torchrun)')
    .argument('<script>', 'the script each rank runs')
    .argument('[args...]', 'arguments for the script')
    .option('--nproc <n>', 'processes on this node', positiveInt('--nproc'), 1)
    .option('--nnodes <n>', 'number of nodes', positiveInt('--nnodes'), 1)
    .option('--node-rank <k>', 'rank of this node', nonNegativeInt('--node-rank'), 0)
    .option('--master-addr <addr>', 'address of rank 0 (it binds there)', '127.0.0.1')
    .option('--master-port <port>', 'port of rank 0 (default: a free port; required with --nnodes > 1)', positiveInt('--master-port'))
    .option('--timeout-ms <ms>', 'collective timeout for every rank', positiveInt('--timeout-ms'))
    .option('--grace-ms <ms>', 'after SIGTERM (a rank failed) or a forwarded SIGINT/SIGTERM/SIGHUP, how long ranks get to exit before SIGKILL',
            nonNegativeInt('--grace-ms'), DEFAULT_GRACE_MS)
    .passThroughOptions()
    .action(async (script: string, args: string[], opts) => {
      if (opts.nodeRank >= opts.nnodes) throw new InvalidArgumentError('--node-rank must be below --nnodes');
      process.exitCode = await launch({
        script, args, nproc: opts.nproc, nnodes: opts.nnodes, nodeRank: opts.nodeRank,
        masterAddr: opts.masterAddr, masterPort: opts.masterPort, timeoutMs: opts.timeoutMs, graceMs: opts.graceMs,
      });
    });
  program.command('convert')
    .description('convert a layers model.json between BatchNormalization and SyncBatchNormalization; copies the weight files')
    .argument('<model.json>', 'the model to convert')
    .argument('<outDir>', 'folder for the converted model.json and its weights')
    .requiredOption('--to <kind>', "'sync' (SyncBatchNormalization) or 'plain' (tfjs-layers BatchNormalization)", (v: string) => {
      if (v !== 'sync' && v !== 'plain') throw new InvalidArgumentError("must be 'sync' or 'plain'");
      return v;
    })
    .option('--force', "allow the output folder to be the model's own folder (replaces its model.json)", false)
    .action((modelPath: string, outDir: string, opts: {to: 'sync' | 'plain'; force: boolean}) => {
      const r = convertModelFile(modelPath, outDir, opts.to, {force: opts.force});
      process.stdout.write(`wrote ${r.modelJson} and ${r.weights.length} weight file(s)\n`);
    });
  program.addCommand(setupNodeCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    process.stderr.write(`tfjs-norms: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

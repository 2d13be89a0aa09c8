/** The `setup-node` command of the `tfjs-norms` CLI (the work is in setup_node.ts). */
import {Command} from 'commander';
import {DEFAULT_TF_VERSION, defaultCacheDir, setupNode, SetupNodeError} from './setup_node.js';

const HELP = `
What it does:
  1. Loads the package in a child process and runs a few ops; if that works, it stops there.
  2. Otherwise it downloads PyPI's TensorFlow wheel with pip (tensorflow-cpu; the CUDA-enabled
     tensorflow wheel with --gpu), extracts libtensorflow and its C headers, builds the package's
     native addon from the source in the npm package with node-gyp (against this Node's headers,
     nothing downloaded from nodejs.org), installs it, and checks again.
  Wheel, libraries and the built addon are cached, so later runs (e.g. after reinstalling
  node_modules) take about a second.

Requirements: Linux x64; python3 with pip (first run only), g++ and make (when no built addon
is cached), Node's headers (include/node; Debian's nodejs package has them). Run it from the
project folder where the package is installed, after \`npm install <pkg> --ignore-scripts\`.

GPU (--gpu): sets up @tensorflow/tfjs-node-gpu against the tensorflow wheel's libtensorflow,
which is built with CUDA 12 and loads the CUDA/cuDNN libraries at run time (e.g. from
\`pip install 'tensorflow[and-cuda]==${DEFAULT_TF_VERSION}'\` or a system CUDA install). It refuses
to run without an NVIDIA driver (/proc/driver/nvidia/version). This path is not tested on a GPU
by this project (its CI has none); the CPU path is.

Environment (same as the options): TFJS_NODE_TF_VERSION, TFJS_NODE_WHEEL, TFJS_NODE_CACHE_DIR,
TFJS_NODE_FORCE=1, TFJS_NODE_NODEDIR, PYTHON, CXX.

Examples:
  npm install @tensorflow/tfjs-node --ignore-scripts && npx tfjs-norms setup-node
  npx tfjs-norms setup-node --check
`;

export function setupNodeCommand(): Command {
  const env = process.env;
  return new Command('setup-node')
    .description('make @tensorflow/tfjs-node (or -gpu) load where its install script cannot download libtensorflow')
    .option('--gpu', 'set up @tensorflow/tfjs-node-gpu (needs an NVIDIA driver and CUDA 12 libraries)', false)
    .option('--check', 'only check that the package loads and runs ops; change nothing (exit code 1 if not)', false)
    .option('--force', 'rebuild even if the package loads or a built addon is cached', env.TFJS_NODE_FORCE === '1')
    .option('--tf-version <version>', 'TensorFlow wheel version', env.TFJS_NODE_TF_VERSION || DEFAULT_TF_VERSION)
    .option('--wheel <file>', 'use an already downloaded TensorFlow wheel instead of pip', env.TFJS_NODE_WHEEL)
    .option('--cache-dir <dir>', 'cache for the wheel, libtensorflow and the built addon', env.TFJS_NODE_CACHE_DIR || defaultCacheDir())
    .option('--nodedir <dir>', "prefix holding Node's headers (include/node)", env.TFJS_NODE_NODEDIR)
    .option('--python <exe>', 'python with pip', env.PYTHON)
    .addHelpText('after', HELP)
    .action((opts: {gpu: boolean; check: boolean; force: boolean; tfVersion: string; wheel?: string; cacheDir: string;
      nodedir?: string; python?: string}) => {
      try {
        setupNode({...opts, log: (s) => process.stdout.write(`[setup-node] ${s}\n`)});
      } catch (e) {
        if (!(e instanceof SetupNodeError)) throw e;
        const detail = e.detail ? `\n---- output (tail) ----\n${e.detail}\n-----------------------` : '';
        throw new Error(`setup-node: ${e.message}${detail}`);
      }
    });
}

// scripts/setup.sh's tfjs-node step: the package's own `tfjs-norms setup-node` command
// (src/cli/setup_node.ts), run from the sources because set-up comes before the build, with the
// repository's cache (.cache/tfjs-node unless TFJS_NODE_CACHE_DIR says otherwise).
import {main} from '../src/cli/main.js';

await main([process.argv[0], 'tfjs-norms', 'setup-node',
  '--cache-dir', process.env.TFJS_NODE_CACHE_DIR || '.cache/tfjs-node', ...process.argv.slice(2)]);

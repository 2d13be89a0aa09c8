// Worker entry: registers tsx so that the TypeScript rank script can run in a worker thread.
import {register} from 'tsx/esm/api';

register();
await import('./rank.ts');

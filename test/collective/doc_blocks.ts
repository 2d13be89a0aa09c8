/** The deployment examples of docs/distributed.md that tests check, by name. */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

/** The fenced blocks marked `<!-- checked: NAME ... -->` in docs/distributed.md. */
export function checkedBlocks(): Map<string, string> {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'distributed.md'), 'utf8');
  const blocks = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- checked: ([\w-]+)[^>]*-->\n```\w+\n([\s\S]*?)```/g)) blocks.set(m[1], m[2]);
  return blocks;
}

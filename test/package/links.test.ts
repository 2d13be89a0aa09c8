/**
 * No dead links in the README and the docs: every relative link (and image) points at a file of
 * the repository, and every `#anchor` at a heading of its target (GitHub's heading ids).
 * External (http, mailto) links are not fetched.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';

const root = join(__dirname, '..', '..');
const mdFiles = (dir: string) => readdirSync(join(root, dir), {recursive: true}).map(String)
  .filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
const FILES = ['README.md', ...mdFiles('docs'), ...mdFiles('scripts')];

/** Markdown without fenced code blocks and inline code (links there are not links). */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading ids (github-slugger): lower case, punctuation dropped, spaces to '-', duplicates numbered. */
export function anchors(md: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of md.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) ids.add(m[1]);
  return ids;
}

function links(md: string): string[] {
  const text = prose(md);
  const inline = [...text.matchAll(/!?\[(?:[^\]]|\][^(])*?\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const refs = [...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]);
  return [...inline, ...refs];
}

const cases = FILES.flatMap((file) => links(readFileSync(join(root, file), 'utf8'))
  .filter((l) => !/^(https?:|mailto:)/.test(l)).map((l) => [file, l] as const));

test('the scan finds the README\'s links to the docs', () => {
  expect(cases).toEqual(expect.arrayContaining([['README.md', 'docs/webgl.md'], ['README.md', 'LICENSE']]));
  expect(anchors('# A b\n## Bundlers, Node and `TypeScript`\n## A b\n')).toEqual(new Set(['a-b', 'bundlers-node-and-typescript', 'a-b-1']));
});

test.each(cases)('%s → %s', (file, link) => {
  const [path, anchor] = link.split('#') as [string, string | undefined];
  const target = path === '' ? join(root, file) : resolve(root, dirname(file), decodeURIComponent(path));
  expect({link, exists: existsSync(target), inRepo: !relative(root, target).startsWith('..')})
    .toEqual({link, exists: true, inRepo: true});
  if (anchor !== undefined) {
    expect(statSync(target).isFile() && target.endsWith('.md')).toBe(true);
    expect([...anchors(readFileSync(target, 'utf8'))]).toContain(anchor);
  }
});

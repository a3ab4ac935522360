import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every link in the documentation resolves inside the repository: a relative link names a file or
 * folder that exists (and never leaves the repository), and an `#anchor` names a heading of its
 * target. Absolute links go only to the few external references listed here.
 */
const ROOT = path.resolve(__dirname, '../..');
const EXTERNAL_HOSTS = new Set([
  'docs.bullmq.io',
  'redis.io',
  'www.mongodb.com',
  'docs.ferretdb.io',
  'www.rfc-editor.org',
  'datatracker.ietf.org',
  'www.standardwebhooks.com',
  'prometheus.io',
  'grafana.com',
]);

function markdownFiles(): string[] {
  const files = ['README.md', 'BENCHMARKS.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = path.join(dir, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  return files;
}

/** The lines outside fenced code blocks, with their line numbers. */
function proseLines(markdown: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === null) fence = m[1]!;
      else if (m[1]![0] === fence[0] && m[1]!.length >= fence.length) fence = null;
      return;
    }
    if (fence === null) out.push({ line, n: i + 1 });
  });
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped but for hyphens, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor the file's headings give, duplicates numbered as GitHub numbers them. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

/** The targets of inline links and images and of reference definitions, outside code. */
function links(markdown: string): { target: string; n: number }[] {
  const out: { target: string; n: number }[] = [];
  for (const { line, n } of proseLines(markdown)) {
    const text = line.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, n });
    const ref = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (ref) out.push({ target: ref[1]!, n });
  }
  return out;
}

/** Why `target`, linked from `file`, does not resolve; null when it does. */
function problem(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    if (!/^https?:/i.test(target)) return 'only http(s) links may leave the repository';
    const host = new URL(target).hostname;
    return EXTERNAL_HOSTS.has(host) ? null : `${host} is not a known external reference (summarise it in the docs instead)`;
  }
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const resolved = rawPath === '' ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), decodeURI(rawPath));
  const rel = path.relative(ROOT, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return 'points outside the repository';
  if (!existsSync(resolved)) return `${rel} does not exist`;
  if (anchor === undefined) return null;
  if (!resolved.endsWith('.md')) return `#${anchor} on a file that is not Markdown`;
  return anchors(readFileSync(resolved, 'utf8')).has(anchor) ? null : `${rel} has no heading #${anchor}`;
}

describe('documentation links', () => {
  it('reads headings and links as GitHub does', () => {
    const doc = [
      '# Tock',
      '## Redis memory and data',
      '### `QUEUE_PREFIX` and [keys](x.md)',
      '## Misfires, overlaps and late starts',
      '## Notes',
      '## Notes',
      '```sh',
      '# not a heading [nor](a-link.md)',
      '```',
      'See [one](docs/api.md#errors), `[code](skipped.md)` and [two][ref].',
      '[ref]: ./BENCHMARKS.md',
    ].join('\n');
    expect([...anchors(doc)]).toEqual([
      'tock',
      'redis-memory-and-data',
      'queue_prefix-and-keys',
      'misfires-overlaps-and-late-starts',
      'notes',
      'notes-1',
    ]);
    expect(links(doc).map((l) => l.target)).toEqual(['x.md', 'docs/api.md#errors', './BENCHMARKS.md']);
  });

  it('tells a broken link from a good one', () => {
    expect(problem('README.md', 'docs/api.md#errors')).toBeNull();
    expect(problem('docs/api.md', '#errors')).toBeNull();
    expect(problem('docs/api.md', 'https://redis.io/docs/')).toBeNull();
    expect(problem('README.md', 'docs/nothing.md')).toMatch(/does not exist/);
    expect(problem('README.md', 'docs/api.md#no-such-heading')).toMatch(/no heading/);
    expect(problem('README.md', '../shared/FERRETDB.md')).toMatch(/outside the repository/);
    expect(problem('README.md', 'https://example.com/notes')).toMatch(/not a known external reference/);
    expect(problem('README.md', 'file:///etc/hosts')).toMatch(/only http/);
  });

  it('finds the documentation', () => {
    const files = markdownFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'BENCHMARKS.md', path.join('docs', 'api.md')]));
  });

  it.each(markdownFiles())('every link in %s resolves inside the repository', (file) => {
    const broken = links(readFileSync(path.join(ROOT, file), 'utf8'))
      .map(({ target, n }) => ({ at: `${file}:${n}`, target, problem: problem(file, target) }))
      .filter((l) => l.problem !== null);
    expect(broken).toEqual([]);
  });
});

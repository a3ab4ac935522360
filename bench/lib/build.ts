import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The API runs from dist/: build when src/ is newer than dist/bin/api.js. */
export function ensureBuilt(log: (line: string) => void, note: (line: string) => void): void {
  const api = path.join(ROOT, 'dist/bin/api.js');
  if (existsSync(api) && statSync(api).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  log('dist/ is older than src/: npm run build');
  try {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    if (!existsSync(api)) throw new Error('npm run build failed and there is no dist/ to run');
    const warning = 'npm run build failed (src/ does not compile right now): the API and worker ran the previous dist/';
    note(warning);
    log(`WARNING: ${warning}`);
  }
}

/**
 * Everything the benchmark starts registers its stop function here. They run in reverse order on
 * normal exit, on an error, and on SIGINT/SIGTERM, so no redis-server, FerretDB, Tock process or
 * PostgreSQL database is left behind. A second signal more than 2 s after the first (Ctrl-C reaches
 * this process both from the terminal and relayed by tsx) exits at once: children are SIGKILLed and
 * the synchronous fallbacks (temp dir, PostgreSQL database) still run.
 */
import type { ChildProcess } from 'node:child_process';

type Stop = () => Promise<void>;
const stops: { name: string; stop: Stop }[] = [];
const children = new Set<ChildProcess>();
const syncFallbacks: (() => void)[] = [];
let running: Promise<void> | undefined;

export function onCleanup(name: string, stop: Stop): () => void {
  const entry = { name, stop };
  stops.push(entry);
  return () => {
    const i = stops.indexOf(entry);
    if (i >= 0) stops.splice(i, 1);
  };
}

/** Runs on a forced exit, when the async stops could not. */
export function onForcedExit(fn: () => void): void {
  syncFallbacks.push(fn);
}

/** Children are also SIGKILLed synchronously if the benchmark process exits abruptly. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (stops.length > 0) {
      const { name, stop } = stops.pop()!;
      await Promise.race([stop(), new Promise((r) => setTimeout(r, 15_000))]).catch((err: unknown) =>
        process.stderr.write(`cleanup ${name}: ${(err as Error).message}\n`),
      );
    }
  })();
  return running;
}

export function installSignalHandlers(): void {
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      if (Date.now() - signalled < 2000) return;
      for (const c of children) c.kill('SIGKILL');
      for (const fn of syncFallbacks) {
        try {
          fn();
        } catch {
          /* best effort */
        }
      }
      process.exit(130);
    }
    signalled = Date.now();
    process.stderr.write(`\n${signal}: stopping servers and processes...\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

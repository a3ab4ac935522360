import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often a page reads its data again while the tab is visible. */
export const POLL_MS = 4000;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => Promise<void>;
}

/**
 * Loads `load()` now and every POLL_MS while the tab is visible (at once when it becomes visible
 * again); `key` changing starts over. A failed poll keeps the last data and shows the error.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, intervalMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (mine !== generation.current) return;
      setError(err as Error);
    }
  }, []);

  useEffect(() => {
    generation.current++;
    setData(undefined);
    setError(undefined);
    void reload();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, intervalMs);
    const visible = () => {
      if (document.visibilityState === 'visible') void reload();
    };
    document.addEventListener('visibilitychange', visible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', visible);
    };
  }, [key, intervalMs, reload]);

  return { data, error, reload };
}

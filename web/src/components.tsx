import type { ComponentChildren } from 'preact';

export function StatusBadge({ status }: { status: string | null }) {
  if (!status) return <span class="muted">never</span>;
  return <span class={`badge badge-${status}`}>{status}</span>;
}

export function ErrorNote({ error }: { error: Error | undefined | null }) {
  if (!error) return null;
  return (
    <p class="note note-error" role="alert">
      {error.message}
    </p>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function Card({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A figure with its label, for the overview and stats. */
export function Figure({ label, value, testId }: { label: string; value: string | number; testId?: string }) {
  return (
    <div class="figure">
      <span class="figure-value" data-testid={testId}>
        {value}
      </span>
      <span class="figure-label">{label}</span>
    </div>
  );
}

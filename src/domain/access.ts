/** Who calls the API, and what they may do. */
export const SCOPES = ['jobs:read', 'jobs:write', 'dead-letter:write', 'metrics:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Actor {
  /** The key's id (`admin` for TOCK_ADMIN_KEY). */
  keyId: string;
  name: string;
  scopes: readonly Scope[];
  /** False for TOCK_ADMIN_KEY, which is configured rather than stored: it owns no jobs and has no quota. */
  stored: boolean;
}

/** `admin` may do everything. */
export function allows(actor: Pick<Actor, 'scopes'>, scope: Scope): boolean {
  return actor.scopes.includes('admin') || actor.scopes.includes(scope);
}

/** A response remembered under an Idempotency-Key. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** The JSON body as sent. */
  body: string;
}

export type IdempotencyRecord =
  | { state: 'pending'; fingerprint: string; owner: string; lockedUntil: Date; expiresAt: Date }
  | { state: 'done'; fingerprint: string; owner: string; lockedUntil: Date; expiresAt: Date; response: StoredResponse };

export interface Claim {
  id: string;
  owner: string;
}

/** Where Idempotency-Key records live (persistence/IdempotencyRepository). */
export interface IdempotencyStore {
  /** Claims the key; null when another (live) record holds it. */
  claim(id: string, fingerprint: string): Promise<Claim | null>;
  /** The live record under the key, or null. */
  find(id: string): Promise<IdempotencyRecord | null>;
  /** Stores the response of a claim; false when the claim was lost. */
  complete(claim: Claim, response: StoredResponse): Promise<boolean>;
  /** Gives the key up: the request created nothing. */
  release(claim: Claim): Promise<void>;
}

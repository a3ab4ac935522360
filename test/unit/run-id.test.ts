import { newRunId } from '../../src/services/job-service';

describe('newRunId', () => {
  it('gives distinct ids of the form <jobId>-<kind>-<12 hex> across many pool refills', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => newRunId('6b048531c7143de548f1a523', i % 2 ? 'm' : 'r'));
    expect(ids.every((id) => /^6b048531c7143de548f1a523-[mr]-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
  });
});

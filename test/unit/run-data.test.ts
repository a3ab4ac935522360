import { readRunData, runData, slotFromJobId } from '../../src/queue/run-data';

describe('run data', () => {
  it('names its fields, and reads runs an older Tock queued as { d, v, t, p }', () => {
    const data = runData({ id: '6b0411d5f6f66b9c7ecddd25', version: 3 }, 'manual');
    expect(data).toEqual({ jobId: '6b0411d5f6f66b9c7ecddd25', version: 3, trigger: 'manual' });
    expect(readRunData(data)).toBe(data);
    expect(readRunData({ d: '6b0411d5f6f66b9c7ecddd25', v: 2, t: 'schedule', p: 1 })).toEqual({
      jobId: '6b0411d5f6f66b9c7ecddd25',
      version: 2,
      trigger: 'schedule',
      postponed: 1,
    });
  });

  it('reads the slot out of a Job Scheduler run id, and nothing out of others', () => {
    expect(slotFromJobId('repeat:6b0411d5f6f66b9c7ecddd25:1767225600000')).toBe(1767225600000);
    expect(slotFromJobId('6b0411d5f6f66b9c7ecddd25-v1')).toBeNull();
    expect(slotFromJobId(undefined)).toBeNull();
  });
});

import { RunActivity } from '../../src/lib/run-activity';

/** A clock the test moves; `quiet` sleeps for real between checks, a millisecond or more each. */
function clocked() {
  let t = 1000;
  const activity = new RunActivity(20, () => t);
  return { activity, advance: (ms: number) => (t += ms) };
}

/** Lets `quiet` run its checks (each waits on a real timer of at least 1 ms). */
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('RunActivity.quiet', () => {
  it('resolves at once when no run has started', async () => {
    const { activity } = clocked();
    await expect(activity.quiet(5000)).resolves.toBe(0);
  });

  it('waits while runs keep starting and resolves after a pause of 20 ms', async () => {
    const { activity, advance } = clocked();
    activity.started();
    let waited: number | undefined;
    const done = activity.quiet(5000).then((ms) => (waited = ms));
    for (let i = 0; i < 10; i++) {
      advance(5);
      activity.started();
      await tick();
      expect(waited).toBeUndefined();
    }
    advance(19);
    await tick();
    expect(waited).toBeUndefined();
    advance(1);
    await done;
    expect(waited).toBe(70);
  });

  it('waits at most maxMs when runs never pause', async () => {
    const { activity, advance } = clocked();
    activity.started();
    let waited: number | undefined;
    const done = activity.quiet(100).then((ms) => (waited = ms));
    for (let i = 0; i < 19; i++) {
      advance(5);
      activity.started();
      await tick();
    }
    expect(waited).toBeUndefined();
    advance(5);
    activity.started();
    await done;
    expect(waited).toBe(100);
  });
});

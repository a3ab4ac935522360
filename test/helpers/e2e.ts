import { tockEnv, useFaultContext, type FaultContext } from './fault';
import { startCluster, type Cluster } from './processes';

export interface E2EContext extends FaultContext {
  cluster: Cluster;
}

/**
 * Registers beforeAll/afterAll that start the API and `workers` worker processes on a fresh
 * database and queue prefix; the returned object is filled in once they are up.
 */
export function useCluster(extraEnv: Record<string, string>, workers = 3): E2EContext {
  const e = useFaultContext() as E2EContext;
  beforeAll(async () => {
    e.cluster = await startCluster(tockEnv(e.ctx, extraEnv), workers);
    // useFaultContext's afterAll stops them before it drops the database.
    e.procs.push(e.cluster.api, ...e.cluster.workers);
  });
  return e;
}

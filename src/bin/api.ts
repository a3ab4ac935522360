import { runMain } from './lifecycle';
import { startProcess } from './container';

runMain('api', (cfg, logger) => startProcess(cfg, logger, { api: true, worker: false }));

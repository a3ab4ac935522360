import { runMain } from './lifecycle';
import { startProcess } from './container';

runMain('all', (cfg, logger) => startProcess(cfg, logger, { api: true, worker: true }));

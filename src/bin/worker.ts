import { runMain } from './lifecycle';
import { startProcess } from './container';

runMain('worker', (cfg, logger) => startProcess(cfg, logger, { api: false, worker: true }));

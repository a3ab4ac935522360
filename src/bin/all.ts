import { runMain } from './lifecycle';
import { startProcess } from './wiring';

runMain('all', (cfg, logger) => startProcess(cfg, logger, { api: true, worker: true }));

import { runMain } from './lifecycle';
import { startProcess } from './wiring';

runMain('api', (cfg, logger) => startProcess(cfg, logger, { api: true, worker: false }));

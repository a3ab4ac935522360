import { runMain } from './lifecycle';
import { startProcess } from './wiring';

runMain('worker', (cfg, logger) => startProcess(cfg, logger, { api: false, worker: true }));

import { runFunction } from '../../shared/runtime/run-function.ts';
import { createStatsApp } from './app.ts';

await runFunction('stats', { redis: true, db: true }, (resources) => createStatsApp(resources));

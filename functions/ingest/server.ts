import { runFunction } from '../../shared/runtime/run-function.ts';
import { createIngestApp } from './app.ts';

await runFunction('ingest', { redis: true, db: false }, (resources) => createIngestApp(resources));

import { loadConfig } from '../shared/config/config.ts';

// The image's HEALTHCHECK: the function's own /healthz, on the port its config gives.
const { port } = loadConfig(process.env);
const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
process.exit(response?.ok ? 0 : 1);

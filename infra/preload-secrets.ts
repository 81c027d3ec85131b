import { secretEnv } from './secret-env.ts';

// Loaded with `node --import` before a function starts (the image's ENTRYPOINT):
// OpenFaaS hands secrets over as files, while the config reads the environment.
// Where the folder does not exist (compose, Kubernetes) this does nothing.
Object.assign(process.env, secretEnv('/var/openfaas/secrets', process.env));

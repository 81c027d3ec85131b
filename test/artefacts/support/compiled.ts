import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../dev/processes.ts';
import { waitFor } from '../../../dev/wait.ts';
import { ROOT, dockerfileStages } from './artefacts.ts';

const run = promisify(execFile);

/**
 * Builds the image's dist/ into a scratch folder inside the repository (so that
 * node_modules resolves as it does in the image) with the same script the
 * Dockerfile runs; `remove` deletes it.
 */
export async function buildDist() {
  const dir = join(ROOT, '.data', `dist-${process.pid}-${Date.now().toString(36)}`);
  await run('sh', ['infra/build.sh', dir], { cwd: ROOT, timeout: 120_000 });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The runtime stage's ENTRYPOINT, with /app/dist pointed at `dist`. */
export function entrypoint(dist: string): string[] {
  const runtime = dockerfileStages('infra/Dockerfile').at(-1)!;
  const instruction = runtime.instructions.find((i) => i.op === 'ENTRYPOINT');
  if (!instruction) throw new Error('the runtime stage has no ENTRYPOINT');
  return (JSON.parse(instruction.args) as string[]).map((arg) => arg.replace('/app/dist', dist));
}

/** Runs a compiled file with plain node to its end; resolves with its exit code and output. */
export function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Starts a compiled server as the image does (`[...ENTRYPOINT, file]`) and waits for its /healthz. */
export async function startCompiled(dist: string, file: string, env: Record<string, string>) {
  const port = await freePort();
  const [command, ...args] = entrypoint(dist);
  const child = spawn(command === 'node' ? process.execPath : command!, [...args, join(dist, file)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const died = exited.then((code) => {
    throw new Error(`${file} exited with ${code}:\n${output}`);
  });
  died.catch(() => undefined); // observed by the race below; a later, normal exit is no error
  await Promise.race([
    waitFor(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: `compiled ${file} to answer /healthz` }),
    died,
  ]).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    port,
    output: () => output,
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
  };
}

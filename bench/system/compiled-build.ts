import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where each function's entry is: the TypeScript source (run through tsx), or a compiled build. */
export type Entries = { of(source: string): string; remove(): void };

/** The sources as `npm start` and the tests run them. */
export const SOURCE_ENTRIES: Entries = { of: (source) => source, remove: () => undefined };

/**
 * The functions as the image runs them: compiled by infra/build.sh (the
 * Dockerfile's build) into a scratch directory that borrows the project's
 * node_modules and package.json. Under tsx every closure a hot function
 * creates is named at run time (esbuild's keepNames); compiled code is not.
 */
export function compiledEntries(): Entries {
  const out = mkdtempSync(join(tmpdir(), 'bench-build-'));
  execFileSync('sh', ['infra/build.sh', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  copyFileSync(join(ROOT, 'package.json'), join(out, 'package.json')); // "type": "module" for the .js files
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  return {
    of: (source) => join(out, source.replace(/\.ts$/, '.js')),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

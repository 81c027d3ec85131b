import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/artefacts.ts';

// The layers, as README's "Layout" tells them: each top folder may import only from the folders listed.
// Tests (`test/` and every `*.test.ts`) may import anything; nothing else imports a test.
const PRODUCT = ['shared', 'functions', 'runner', 'infra', 'client'];
const TOOLS = ['dev', 'bench', 'loadtest', 'scripts'];
const MAY_IMPORT: Record<string, string[]> = {
  shared: ['shared'],
  functions: ['functions', 'shared'],
  runner: ['runner', 'functions', 'shared'],
  infra: ['infra', 'functions', 'shared'],
  // The client is built for browsers too: the event's rules, not the server.
  client: ['client', 'shared/event'],
  // Tools may read package.json too: the bench starts npm start with the node flags of its script.
  ...Object.fromEntries(TOOLS.map((tool) => [tool, [...PRODUCT, ...TOOLS, 'package.json']])),
};

const SKIPPED = new Set(['node_modules', 'dist', '.data', '.git', 'test-artifacts', 'results']);
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE.test(entry.name) ? [path] : [];
  });
}

/** The repository-relative targets of a file's relative imports: static, dynamic, re-exports and `new URL(…, import.meta.url)`. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [
    ...text.matchAll(/\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g),
    ...text.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*,\s*import\.meta\.url/g),
  ].map((match) => match[1]!);
  // `new URL('../', import.meta.url)` names the repository root, not a module.
  return specifiers.map((specifier) => relative(ROOT, resolve(ROOT, dirname(file), specifier))).filter((target) => target !== '');
}

const topOf = (path: string) => path.split(sep)[0]!;
const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}${sep}`);
const isTest = (file: string) => topOf(file) === 'test' || file.endsWith('.test.ts');

/** Every import that crosses a layer the wrong way, as `file -> target`. */
function wrongWayImports(): string[] {
  const problems: string[] = [];
  for (const top of Object.keys(MAY_IMPORT)) {
    for (const file of sourceFiles(top).filter((f) => !isTest(f))) {
      for (const target of importsOf(file, readFileSync(join(ROOT, file), 'utf8'))) {
        if (!MAY_IMPORT[top]!.some((folder) => within(target, folder))) problems.push(`${file} -> ${target}`);
      }
    }
  }
  return problems;
}

describe('dependencies run one way', () => {
  it('no product or tool file imports a test, and the product never imports a tool', () => {
    expect(wrongWayImports()).toEqual([]);
  });

  it('sees every kind of import it checks', () => {
    const text = [
      "import { a } from '../test/support/browser.ts';",
      "export * from '../bench/run.ts';",
      "const b = await import('../test/chaos/x.ts');",
      "const c = new URL('../dev/wait.ts', import.meta.url);",
      "import 'pino';",
    ].join('\n');
    expect(importsOf(join('scripts', 'x.ts'), text)).toEqual(['test/support/browser.ts', 'bench/run.ts', 'test/chaos/x.ts', 'dev/wait.ts']);
  });
});

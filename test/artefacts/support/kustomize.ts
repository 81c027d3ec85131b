import { loadYamlDocuments } from './artefacts.ts';

type Resource = Record<string, any>;
type JsonPatchOp = { op: 'add' | 'replace' | 'test'; path: string; value?: unknown };

/** The resources a kustomization lists (files, or a folder holding another kustomization), with its namespace set. */
export function kustomizeResources(dir: string): Resource[] {
  const kustomization = loadYamlDocuments(`${dir}/kustomization.yaml`)[0]!;
  const resources = (kustomization.resources as string[]).flatMap((entry) => {
    const path = normalise(`${dir}/${entry}`);
    return entry.endsWith('.yaml') ? loadYamlDocuments(path) : kustomizeResources(path);
  });
  for (const patch of (kustomization.patches ?? []) as Array<{ path: string; target: { group?: string; kind: string; name: string } }>) {
    const targets = resources.filter((r) => r.kind === patch.target.kind && r.metadata.name === patch.target.name
      && (patch.target.group === undefined || String(r.apiVersion).startsWith(`${patch.target.group}/`)));
    // Our overlays each patch one resource: a target that names none (or several) is a mistake.
    if (targets.length !== 1) throw new Error(`${dir}: patch ${patch.path} matches ${targets.length} resources`);
    applyJsonPatch(targets[0]!, loadYamlDocuments(normalise(`${dir}/${patch.path}`))[0] as unknown as JsonPatchOp[]);
  }
  if (kustomization.namespace) for (const r of resources) r.metadata.namespace = kustomization.namespace;
  return resources;
}

const normalise = (path: string) => {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
};

/**
 * The part of RFC 6902 our overlays use, as kustomize applies it: `test` fails the build on
 * a mismatch, `replace` wants something there, `add` with `-` appends to an array. Changes `doc` in place.
 *
 * @example applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }]) // { a: [1, 2] }
 */
export function applyJsonPatch(doc: Resource, ops: JsonPatchOp[]): Resource {
  for (const { op, path, value } of ops) {
    const keys = path.split('/').slice(1).map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop()!;
    const parent = keys.reduce<any>((node, key) => {
      if (node?.[key] === undefined) throw new Error(`${op} ${path}: no ${key}`);
      return node[key];
    }, doc);
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    if (op === 'test') {
      if (JSON.stringify(parent[index]) !== JSON.stringify(value)) throw new Error(`test ${path}: ${JSON.stringify(parent[index])} is not ${JSON.stringify(value)}`);
    } else if (op === 'replace') {
      if (!(index in parent)) throw new Error(`replace ${path}: nothing there`);
      parent[index] = value;
    } else if (Array.isArray(parent)) {
      parent.splice(Number(index), 0, value);
    } else {
      parent[index] = value;
    }
  }
  return doc;
}

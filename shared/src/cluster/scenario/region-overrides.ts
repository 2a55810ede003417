import type { Scenario } from './scenario-schema.js';

/** A `set` key as path keys: `cluster.host_classes[0].count` or `cluster.host_classes.0.count`. */
export function overridePath(key: string): (string | number)[] | null {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.');
  if (parts.some((p) => p === '')) return null;
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** A copy of `base` with `value` at `path` (mappings made on the way); a message when the path does not fit. */
export function withValueAt(base: unknown, path: readonly (string | number)[], value: unknown): { value: unknown } | { problem: string } {
  if (path.length === 0) return { value };
  const [key, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(base)) {
    if (typeof key !== 'number') return { problem: `the path reaches a list at '${key}'; give an index (e.g. [0])` };
    if (key >= base.length) return { problem: `index ${key} is past the end of a list of ${base.length}` };
    const inner = withValueAt(base[key], rest, value);
    if ('problem' in inner) return inner;
    const copy = [...base];
    copy[key] = inner.value;
    return { value: copy };
  }
  if (base === undefined || base === null || typeof base === 'object') {
    if (typeof key === 'number') return { problem: `index ${key} used on something that is not a list` };
    const obj = (base ?? {}) as Record<string, unknown>;
    const inner = withValueAt(obj[key], rest, value);
    if ('problem' in inner) return inner;
    return { value: { ...obj, [key]: inner.value } };
  }
  return { problem: `the path goes through a value (${JSON.stringify(base)}), not a mapping, at '${key}'` };
}

/** A region's clusters with `set` values, validated: kept by the validated `region` object they belong to. */
const resolved = new WeakMap<object, readonly (Scenario | null)[]>();

/** Each cluster's scenario with its `set` values applied (null: the cluster sets nothing), when the region has sets. */
export function resolvedRegionClusters(region: object): readonly (Scenario | null)[] | undefined {
  return resolved.get(region);
}

/** One problem of a cluster's values: the `set` key's path in the file and the message. */
export interface RegionOverrideIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Applies each listed cluster's `set` to the scenario as its YAML reads (`input`, without `region`) and validates the
 * result with `validate` (the scenario's own validation: schema and checks). Problems are returned at the `set` key
 * to blame, naming the cluster and the validator's path; clusters that validate are kept for `regionClusters`.
 */
export function resolveRegionOverrides(
  input: unknown,
  region: NonNullable<Scenario['region']>,
  validate: (input: unknown) => { scenario: Scenario } | { issues: readonly { path: string; message: string }[] },
): RegionOverrideIssue[] {
  if (typeof region.clusters === 'number' || region.clusters.every((c) => c.set === undefined || Object.keys(c.set).length === 0)) return [];
  const { region: _region, ...base } = input as Record<string, unknown>;
  const issues: RegionOverrideIssue[] = [];
  const scenarios = region.clusters.map((c, i): Scenario | null => {
    const set = c.set ?? {};
    const keys = Object.keys(set);
    if (keys.length === 0) return null;
    const name = c.name ?? `c${i}`;
    let cur: unknown = base;
    for (const k of keys) {
      const at = ['region', 'clusters', i, 'set', k];
      const path = overridePath(k);
      if (path === null) {
        issues.push({ path: at, message: `cluster ${name}: '${k}' is not a dotted path such as policies.maintenance.wave_size (an empty key)` });
        return null;
      }
      const next = withValueAt(cur, path, set[k]);
      if ('problem' in next) {
        issues.push({ path: at, message: `cluster ${name}: ${k}: ${next.problem}` });
        return null;
      }
      cur = next.value;
    }
    const r = validate(cur);
    if ('scenario' in r) return r.scenario;
    for (const issue of r.issues) {
      // Blame the set key that the issue's path is under (or that is under it); else the cluster's `set`.
      const key = keys.find((k) => samePrefix(issue.path, normalise(k)));
      issues.push({ path: key === undefined ? ['region', 'clusters', i, 'set'] : ['region', 'clusters', i, 'set', key], message: `cluster ${name}: ${issue.path || '(top level)'}: ${issue.message}` });
    }
    return null;
  });
  if (issues.length === 0) resolved.set(region, scenarios);
  return issues;
}

/** `a.0.b` as the validator writes paths: `a[0].b`. */
function normalise(key: string): string {
  return key.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

function samePrefix(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
}

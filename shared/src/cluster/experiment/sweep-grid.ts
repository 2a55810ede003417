import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { canonicalJson } from '../../common/canonical-json.js';
import { capacityIssues } from '../fleet/capacity-issues.js';
import { ScenarioInvalid } from '../scenario/errors/scenario-invalid.js';
import { pathText, validateScenario } from '../scenario/parse-scenario.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { SweepInvalid } from './errors/sweep-invalid.js';

/** One `--set PATH=V1,V2,...`: where in the scenario, and the values to try there (parsed as YAML scalars). */
export interface SweepSet {
  /** The flag as given, for messages. */
  readonly text: string;
  /** The path's keys; numbers index lists (`cluster.host_classes.0.count` or `cluster.host_classes[0].count`). */
  readonly path: readonly (string | number)[];
  /** The path as the scenario validator writes it (`cluster.host_classes[0].count`): the CSV column's name. */
  readonly name: string;
  readonly values: readonly unknown[];
  /** Each value as written on the command line. */
  readonly valueTexts: readonly string[];
}

/** Splits at commas outside brackets, braces and quotes (so `{ choices: [1, 2] }` stays one value). */
function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function parsePath(text: string, flag: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const part of text.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (part === '') throw new SweepInvalid(`--set ${flag}: '${text}' is not a path such as policies.maintenance.max_outbound (an empty key)`);
    path.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  return path;
}

/**
 * `--set PATH=V1,V2,...` as a path and its values. Each value is read as a YAML scalar (or flow collection), so
 * `8h`, `10Gbit/s`, `true`, `null`, numbers and `{ choices: [16GiB, 32GiB] }` mean what they mean in a scenario
 * file. Throws SweepInvalid when the flag has no `=`, an empty path, or an empty or unreadable value; whether the
 * path and the values fit the scenario is `sweepGrid`'s to check.
 */
export function parseSetFlag(text: string): SweepSet {
  const eq = text.indexOf('=');
  if (eq < 0) throw new SweepInvalid(`--set ${text}: expected PATH=V1,V2,... (e.g. policies.maintenance.max_outbound=1,2)`);
  const pathPart = text.slice(0, eq).trim();
  const path = parsePath(pathPart, text);
  const valueTexts = splitValues(text.slice(eq + 1));
  const values = valueTexts.map((v) => {
    if (v === '') throw new SweepInvalid(`--set ${text}: an empty value (give values separated by commas, e.g. ${pathPart}=1,2)`);
    try {
      return parseYaml(v) as unknown;
    } catch (e) {
      throw new SweepInvalid(`--set ${text}: '${v}' is not a YAML value: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  return { text, path, name: pathText(path), values, valueTexts };
}

/** One run of a sweep: a combination of the `--set` values and a seed, with the scenario it makes. */
export interface SweepPoint {
  /** Position in the grid (0-based): the order runs are made and rows written. */
  readonly index: number;
  /** Index of the combination of values (the same for every seed of it). */
  readonly combo: number;
  /** The value of each `--set`, in the flags' order. */
  readonly settings: readonly { readonly name: string; readonly value: unknown; readonly text: string }[];
  readonly seed: number;
  /** The validated scenario, with the values applied and this seed. */
  readonly scenario: Scenario;
  /** Deterministic run id: `<scenario>-sweep-<hash of the scenario>`. */
  readonly runId: string;
}

export interface SweepGrid {
  readonly sets: readonly SweepSet[];
  readonly seeds: number;
  readonly points: readonly SweepPoint[];
}

/** A copy of `base` with `value` at `path`, making the mappings on the way; a list or scalar in the way is an error. */
export function setAtPath(base: unknown, path: readonly (string | number)[], value: unknown, flag: string): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(base)) {
    if (typeof key !== 'number') throw new SweepInvalid(`--set ${flag}: the path reaches a list at '${key}'; give an index (e.g. .0)`);
    if (key >= base.length) throw new SweepInvalid(`--set ${flag}: index ${key} is past the end of a list of ${base.length}`);
    const copy = [...base];
    copy[key] = setAtPath(base[key], rest, value, flag);
    return copy;
  }
  if (base === undefined || base === null || typeof base === 'object') {
    if (typeof key === 'number') throw new SweepInvalid(`--set ${flag}: index ${key} used on something that is not a list`);
    const obj = (base ?? {}) as Record<string, unknown>;
    return { ...obj, [key]: setAtPath(obj[key], rest, value, flag) };
  }
  throw new SweepInvalid(`--set ${flag}: the path goes through a value (${JSON.stringify(base)}), not a mapping, at '${key}'`);
}

const samePrefix = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);

/** A run id for a point: the scenario's name (as run ids allow it) and a hash of the whole scenario, seed included. */
export function sweepRunId(scenario: Scenario): string {
  const name = scenario.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${name}-sweep-${createHash('sha256').update(canonicalJson(scenario)).digest('hex').slice(0, 16)}`;
}

/**
 * The grid of a sweep: every combination of the sets' values (the first `--set` varies slowest, the last fastest),
 * each with seeds base … base+seeds−1 (base: the combination's `seed`). Each combination is the base scenario
 * object (as its YAML parses, before units) with the values at their paths, validated as a scenario file is
 * (schema, then the fleet's capacity). Every problem of every combination is collected and thrown as one
 * SweepInvalid, each line naming the `--set` (or sets) to blame and the validator's path and message.
 */
export function sweepGrid(base: unknown, sets: readonly SweepSet[], seeds: number = 1, file: string = '<scenario>'): SweepGrid {
  if (!Number.isInteger(seeds) || seeds < 1) throw new SweepInvalid(`--seeds: must be a whole number of at least 1 (got ${seeds})`);
  const seen = new Set<string>();
  for (const s of sets) {
    if (seen.has(s.name)) throw new SweepInvalid(`--set ${s.text}: ${s.name} is set twice; give all its values in one --set`);
    seen.add(s.name);
  }
  const combos: number[][] = [[]];
  for (const s of sets) {
    const next: number[][] = [];
    for (const c of combos) for (let i = 0; i < s.values.length; i++) next.push([...c, i]);
    combos.splice(0, combos.length, ...next);
  }
  const problems: string[] = [];
  // The validator's issues, each once with the values of the sets to blame that give it (`--set a=0,1: …`).
  const issues = new Map<string, { sets: number[]; values: Set<number>[]; message: string }>();
  const addIssue = (blamed: number[], message: string, combo: readonly number[]): void => {
    const key = `${blamed.join(',')}|${message}`;
    const entry = issues.get(key) ?? { sets: blamed, values: blamed.map(() => new Set<number>()), message };
    blamed.forEach((k, i) => entry.values[i]!.add(combo[k]!));
    issues.set(key, entry);
  };
  const points: SweepPoint[] = [];
  combos.forEach((combo, comboIndex) => {
    const settings = sets.map((s, k) => ({ name: s.name, value: s.values[combo[k]!], text: s.valueTexts[combo[k]!]! }));
    const blame = (issuePath: string): number[] => {
      const blamed = sets.map((_, k) => k).filter((k) => samePrefix(issuePath, sets[k]!.name));
      return blamed.length > 0 ? blamed : sets.map((_, k) => k);
    };
    let input = base;
    try {
      sets.forEach((s, k) => (input = setAtPath(input, s.path, settings[k]!.value, `${s.name}=${settings[k]!.text}`)));
    } catch (e) {
      if (e instanceof SweepInvalid) return void problems.push(e.message);
      throw e;
    }
    let scenario: Scenario;
    try {
      scenario = validateScenario(input, file, [capacityIssues]);
    } catch (e) {
      if (!(e instanceof ScenarioInvalid)) throw e;
      for (const i of e.issues) addIssue(blame(i.path), `${file}: ${i.path || '(top level)'}: ${i.message}`, combo);
      return;
    }
    for (let k = 0; k < seeds; k++) {
      const seed = scenario.seed + k;
      if (seed > 2 ** 31 - 1) {
        problems.push(`--seeds ${seeds}: seed ${seed} is beyond the largest seed, ${2 ** 31 - 1}`);
        break;
      }
      const s = { ...scenario, seed };
      points.push({ index: points.length, combo: comboIndex, settings, seed, scenario: s, runId: sweepRunId(s) });
    }
  });
  for (const { sets: blamed, values, message } of issues.values()) {
    const flags = blamed.map((k, i) => `--set ${sets[k]!.name}=${[...values[i]!].sort((a, b) => a - b).map((v) => sets[k]!.valueTexts[v]).join(',')}`);
    problems.push(`${flags.join(' ')}: ${message}`);
  }
  if (problems.length > 0) throw new SweepInvalid([...new Set(problems)].join('\n'));
  return { sets, seeds, points };
}

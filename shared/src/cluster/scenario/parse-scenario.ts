import { LineCounter, parseDocument } from 'yaml';
import { ScenarioInvalid, type ScenarioIssue } from './errors/scenario-invalid.js';
import type { ScenarioCheck } from './scenario-check.js';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/**
 * Parses and validates a scenario (YAML or JSON text). Every problem is reported with its YAML path and, where the
 * node exists, its line and column: unknown keys, wrong types, bad units and negative sizes, then whatever the
 * `checks` find in a scenario the schema accepted (the fleet's capacity, see `cluster/fleet/capacity-issues.ts`).
 */
export function parseScenario(text: string, file: string = '<scenario>', checks: readonly ScenarioCheck[] = []): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioInvalid(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '', line: pos?.line, column: pos?.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate = (path: readonly PropertyKey[]): { line: number | undefined; column: number | undefined } => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: undefined, column: undefined };
  };
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issues: ScenarioIssue[] = parsed.error.issues.map((i) => {
      // Unknown keys: point at the key itself.
      const keys = (i as { keys?: string[] }).keys;
      const path = keys && keys.length > 0 ? [...i.path, keys[0]!] : i.path;
      return { path: pathText(path), ...locate(path), message: i.message };
    });
    throw new ScenarioInvalid(file, issues);
  }
  const found = checks.flatMap((check) => check(parsed.data));
  if (found.length > 0) {
    throw new ScenarioInvalid(
      file,
      found.map((c) => ({ path: c.path, ...locate(c.path.split('.')), message: c.message })),
    );
  }
  return parsed.data;
}

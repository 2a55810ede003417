import { readFileSync } from 'node:fs';
import { applyOverrides, profileOverridesSchema, type CostProfile } from '../mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../mmu/default-profile.js';
import { CliError } from './cli-error.js';

/** Built-in profiles by name. */
export const PROFILES: Readonly<Record<string, CostProfile>> = { default: DEFAULT_PROFILE };

/**
 * `--profile NAME` (a built-in) or `--profile FILE.json`: a JSON object `{ "base"?, "name"?, "costs"?: {...},
 * "params"?: {...} }` merged over a built-in profile; every key is checked.
 */
export function resolveProfile(spec: string): CostProfile {
  const builtin = PROFILES[spec];
  if (builtin) return builtin;
  if (!spec.endsWith('.json')) {
    throw new CliError(`--profile: unknown profile '${spec}'; use one of ${Object.keys(PROFILES).join(', ')} or a path to a .json file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new CliError(`--profile: cannot read ${spec}: ${(e as Error).message}`);
  }
  const parsed = profileOverridesSchema.safeParse(raw);
  if (!parsed.success) {
    const msgs = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new CliError(`--profile: ${spec} is not a valid profile:\n${msgs.join('\n')}`);
  }
  const base = PROFILES[parsed.data.base ?? 'default'];
  if (!base) throw new CliError(`--profile: ${spec}: unknown base profile '${parsed.data.base}'`);
  return applyOverrides(base, parsed.data, parsed.data.name ?? spec);
}

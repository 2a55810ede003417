import { canonicalJson } from '../../common/canonical-json.js';
import { BUILTIN_PROFILES } from './builtin-profiles.js';
import { applyOverrides, profileOverridesSchema, type CostProfile, type ProfileOverrides } from './cost-profile.js';
import { ProfileInvalid } from './errors/profile-invalid.js';

/** A profile as jobs and scenarios give it: the name of a built-in profile, or overrides of one, inline. */
export type ProfileSpec = string | ProfileOverrides;

const resolved = new Map<string, CostProfile>();

/**
 * The cost profile a job or scenario names: a built-in profile by name, or inline overrides merged over their base
 * (default `default`). Never reads a file (a worker resolves what its jobs carry); resolved profiles are kept, so a
 * worker resolves each distinct profile once. Throws ProfileInvalid.
 */
export function resolveProfile(spec: ProfileSpec): CostProfile {
  if (typeof spec === 'string') {
    const builtin = BUILTIN_PROFILES[spec];
    if (!builtin) throw new ProfileInvalid(spec, [`not a built-in profile (${Object.keys(BUILTIN_PROFILES).join(', ')}); a profile file is read where the scenario or command is loaded, and jobs carry it inline`]);
    return builtin;
  }
  const key = canonicalJson(spec);
  const hit = resolved.get(key);
  if (hit) return hit;
  const parsed = profileOverridesSchema.safeParse(spec);
  if (!parsed.success) throw new ProfileInvalid(spec.name ?? '(inline)', parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  const baseName = parsed.data.base ?? 'default';
  const base = BUILTIN_PROFILES[baseName];
  if (!base) throw new ProfileInvalid(spec.name ?? '(inline)', [`base: unknown profile '${baseName}' (${Object.keys(BUILTIN_PROFILES).join(', ')})`]);
  const profile = applyOverrides(base, parsed.data, parsed.data.name ?? `${baseName}+overrides`);
  resolved.set(key, profile);
  return profile;
}

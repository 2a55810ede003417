import { readFileSync } from 'node:fs';
import { BUILTIN_PROFILES } from './builtin-profiles.js';
import { profileOverridesSchema, type ProfileOverrides } from './cost-profile.js';
import { ProfileInvalid } from './errors/profile-invalid.js';

/**
 * A profile file: a JSON object `{ "base"?, "name"?, "costs"?: {...}, "params"?: {...} }` of overrides of a built-in
 * profile, every key checked. Returns the overrides with `name` set (the file's own, or its path), ready to be
 * carried inline by jobs. Throws ProfileInvalid naming the file and each problem.
 */
export function readProfileFile(file: string): ProfileOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ProfileInvalid(file, [`cannot read it as JSON: ${(e as Error).message}`]);
  }
  const parsed = profileOverridesSchema.safeParse(raw);
  if (!parsed.success) throw new ProfileInvalid(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  const base = parsed.data.base ?? 'default';
  if (!BUILTIN_PROFILES[base]) throw new ProfileInvalid(file, [`base: unknown profile '${base}' (${Object.keys(BUILTIN_PROFILES).join(', ')})`]);
  return { ...parsed.data, name: parsed.data.name ?? file };
}

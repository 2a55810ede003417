import { BUILTIN_PROFILES } from './builtin-profiles.js';
import type { CostProfile } from './cost-profile.js';
import { ProfileInvalid } from './errors/profile-invalid.js';
import { readProfileFile } from './read-profile-file.js';
import { resolveProfile, type ProfileSpec } from './resolve-profile.js';

/**
 * A profile as a user names it on the command line or in a scenario: a built-in name, or a `.json` file of
 * overrides (read now). Returns the spec a job carries (the name, or the file's overrides inline) and the profile.
 * Throws ProfileInvalid.
 */
export function loadProfile(spec: string): { spec: ProfileSpec; profile: CostProfile } {
  if (BUILTIN_PROFILES[spec]) return { spec, profile: resolveProfile(spec) };
  if (!spec.endsWith('.json')) throw new ProfileInvalid(spec, [`unknown profile; use one of ${Object.keys(BUILTIN_PROFILES).join(', ')} or a path to a .json file`]);
  const overrides = readProfileFile(spec);
  return { spec: overrides, profile: resolveProfile(overrides) };
}

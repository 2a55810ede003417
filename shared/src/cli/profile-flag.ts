import type { CostProfile } from '../kernel/mmu/cost-profile.js';
import { ProfileInvalid } from '../kernel/mmu/errors/profile-invalid.js';
import { loadProfile } from '../kernel/mmu/load-profile.js';
import type { ProfileSpec } from '../kernel/mmu/resolve-profile.js';
import { CliError } from './cli-error.js';

/** `--profile NAME|FILE.json`: the profile, and the spec a job carries; a bad one is a usage error naming the flag. */
export function profileFromFlag(text: string, flag: string = '--profile'): { spec: ProfileSpec; profile: CostProfile } {
  try {
    return loadProfile(text);
  } catch (e) {
    if (e instanceof ProfileInvalid) throw new CliError(`${flag}: ${e.message}`);
    throw e;
  }
}

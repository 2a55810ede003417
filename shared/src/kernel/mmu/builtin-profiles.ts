import type { CostProfile } from './cost-profile.js';
import { DEFAULT_PROFILE } from './default-profile.js';

/** Built-in cost profiles by name; jobs and scenarios name one of these or carry a profile inline. */
export const BUILTIN_PROFILES: Readonly<Record<string, CostProfile>> = { default: DEFAULT_PROFILE };

/** The name of the profile used when none is given. */
export const DEFAULT_PROFILE_NAME = 'default';

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The tiers of shared/src (common < engine < kernel < migration < cluster < cli) and services/ on top: ESLint
 * rejects an import that runs back up. Each case lints a one-line file as if it lived at `file`.
 */
const eslint = new ESLint();

async function messages(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: file });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering: no import runs back up a tier (ESLint no-restricted-imports)', () => {
  const cases: [file: string, code: string, allowed: boolean][] = [
    ['shared/src/engine/x.ts', "import '../kernel/mmu/kvm.js';", false],
    ['shared/src/engine/x.ts', "import '../common/units.js';", true],
    ['shared/src/kernel/mmu/x.ts', "import '../../migration/job/migration-job.js';", false],
    ['shared/src/kernel/mmu/x.ts', "import '../mmu-aggregate/aggregate-mmu.js';", false],
    ['shared/src/kernel/mmu-aggregate/x.ts', "import '../mmu/kvm.js';", true],
    ['shared/src/kernel/mmu-aggregate/x.ts', "import '../selftest/memstress.js';", false],
    ['shared/src/kernel/selftest/x.ts', "import '../calibration/calibrate.js';", false],
    ['shared/src/kernel/mmu/x.ts', "import 'prom-client';", false],
    ['shared/src/migration/precopy/x.ts', "import '../../cluster/fleet/build-fleet.js';", false],
    ['shared/src/migration/precopy/x.ts', "import 'bullmq';", false],
    ['shared/src/migration/precopy/x.ts', "import '../../kernel/mmu-aggregate/aggregate-mmu.js';", true],
    ['shared/src/cluster/fleet/x.ts', "import '../../cli/cli-error.js';", false],
    ['shared/src/cluster/worker/x.ts', "import '../../../services/worker/src/main.js';", false],
    ['shared/src/cluster/queue/x.ts', "import 'bullmq';", true],
    ['shared/src/cli/x.ts', "import '../../services/coordinator/src/main.js';", false],
    ['shared/src/cli/x.ts', "import '../cluster/coordinator/coordinator.js';", true],
  ];
  for (const [file, code, allowed] of cases) {
    it(`${file}: ${code} is ${allowed ? 'allowed' : 'rejected'}`, async () => {
      const m = await messages(file, code);
      if (allowed) expect(m).toEqual([]);
      else expect(m.length, `${file} ${code}`).toBeGreaterThan(0);
    });
  }
});

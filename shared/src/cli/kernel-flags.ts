import { KernelSettingsInvalid } from '../kernel/host/errors/kernel-settings-invalid.js';
import { CliError } from './cli-error.js';

/** The flag that sets each kernel setting, by the field name the schemas and KernelSettingsInvalid use. */
export const KERNEL_FLAGS: Readonly<Record<string, string>> = {
  release: '--kernel',
  cpu: '--cpu',
  tdp_mmu: '--tdp-mmu',
  nx_huge_pages: '--nx-huge-pages',
  eager_page_split: '--eager-split',
  pml: '--pml',
  fast_page_fault: '--fast-page-fault',
  strategy: '--strategy',
  manual_protect: '--manual-protect',
};

/** Runs `fn`; a KernelSettingsInvalid becomes a usage error naming each flag. */
export function withKernelFlags<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KernelSettingsInvalid) throw new CliError(e.issues.map((i) => `${KERNEL_FLAGS[i.field] ?? i.field}: ${i.message}`).join('\n'));
    throw e;
  }
}

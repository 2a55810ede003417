import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { ProfileInvalid } from '../../../../shared/src/kernel/mmu/errors/profile-invalid.js';
import { loadProfile } from '../../../../shared/src/kernel/mmu/load-profile.js';
import { resolveProfile } from '../../../../shared/src/kernel/mmu/resolve-profile.js';

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('cost profiles: built-in names, files read where they are named, inline overrides in jobs', () => {
  it('resolves a built-in name and inline overrides (once per distinct profile)', () => {
    expect(resolveProfile('default')).toBe(DEFAULT_PROFILE);
    const inline = { name: 'fast-flush', costs: { tlb_flush_base_ns: 100 } };
    const p = resolveProfile(inline);
    expect(p.name).toBe('fast-flush');
    expect(p.costs.tlb_flush_base_ns).toBe(100);
    expect(p.costs.leaf_zap_ns).toBe(DEFAULT_PROFILE.costs.leaf_zap_ns);
    expect(resolveProfile({ ...inline })).toBe(p);
  });

  it('never reads a file when a job names one: a path is not a built-in profile', () => {
    const e = thrown(() => resolveProfile('/etc/passwd.json'));
    expect(e).toBeInstanceOf(ProfileInvalid);
    expect((e as Error).message).toMatch(/not a built-in profile/);
  });

  it('loads a file into inline overrides named after it; bad keys and values are named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-prof-'));
    const good = join(dir, 'host.json');
    writeFileSync(good, JSON.stringify({ costs: { leaf_zap_ns: 300 } }));
    const { spec, profile } = loadProfile(good);
    expect(spec).toEqual({ costs: { leaf_zap_ns: 300 }, name: good });
    expect(profile.costs.leaf_zap_ns).toBe(300);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ costs: { leaf_zap_ns: -1, no_such_cost: 3 } }));
    const e = thrown(() => loadProfile(bad));
    expect(e).toBeInstanceOf(ProfileInvalid);
    expect((e as ProfileInvalid).problems.join('\n')).toMatch(/costs.leaf_zap_ns|costs/);
    expect(thrown(() => loadProfile('nope'))).toBeInstanceOf(ProfileInvalid);
    expect(thrown(() => loadProfile(join(dir, 'missing.json')))).toBeInstanceOf(ProfileInvalid);
  });
});

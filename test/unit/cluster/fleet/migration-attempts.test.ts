import { describe, expect, it } from 'vitest';
import { MigrationAttempts } from '../../../../shared/src/cluster/fleet/migration-attempts.js';

describe('MigrationAttempts', () => {
  it('counts migrations per VM, starting at 1', () => {
    const a = new MigrationAttempts();
    expect(a.count(3)).toBe(0);
    expect([a.next(3, 'migration'), a.next(3, 'migration'), a.next(4, 'migration')]).toEqual([1, 2, 1]);
    expect([a.count(3), a.count(4)]).toEqual([2, 1]);
  });

  it('gives a probe the next attempt number without counting it', () => {
    const a = new MigrationAttempts();
    a.next(1, 'migration');
    expect(a.next(1, 'dirty-rate-probe')).toBe(2);
    expect(a.next(1, 'dirty-rate-probe')).toBe(2);
    expect(a.count(1)).toBe(1);
  });

  it('starts a VM count afresh on reset', () => {
    const a = new MigrationAttempts();
    a.next(1, 'migration');
    a.next(1, 'migration');
    a.reset(1);
    expect(a.count(1)).toBe(0);
    expect(a.next(1, 'migration')).toBe(1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Vm } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { HostTable, type HostState } from '../../../../shared/src/cluster/fleet/host-table.js';
import { fleetOf, GiB, type HostSpec, type VmSpec } from './fleet-fixtures.js';

/** The linear scan the table's index replaced, reading only the table's public state. */
function scanDestination(t: HostTable, vm: Vm, exclude: number): number {
  let best = -1;
  for (let h = 0; h < t.hostCount; h++) {
    if (h === exclude || t.state(h) !== 'up' || t.inbound(h) >= t.maxInbound) continue;
    if (t.freeMemory(h) < vm.ramBytes || t.freeVcpus(h) < vm.vcpus) continue;
    if (best < 0 || t.freeMemory(h) > t.freeMemory(best)) best = h;
  }
  return best;
}

const STATES: readonly HostState[] = ['up', 'draining', 'upgrading', 'failed'];

type Op =
  | { kind: 'reserve'; vm: number; src: number; dst: number }
  | { kind: 'release'; which: number; moved: boolean }
  | { kind: 'state'; host: number; state: HostState }
  | { kind: 'query'; vm: number; exclude: number };

interface Case {
  readonly hosts: HostSpec[];
  readonly vms: VmSpec[];
  readonly maxIn: number;
  readonly ops: Op[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    hostCount: fc.integer({ min: 1, max: 24 }),
    vmCount: fc.integer({ min: 1, max: 12 }),
    maxIn: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ hostCount, vmCount, maxIn }) => {
    const host = fc.integer({ min: 0, max: hostCount - 1 });
    const vm = fc.integer({ min: 0, max: vmCount - 1 });
    // Memory in whole GiB from a small range: equal free memory (ties) is common.
    const hostSpec = fc.record({ memoryBytes: fc.integer({ min: 0, max: 12 }).map((g) => g * GiB), vcpus: fc.integer({ min: 0, max: 8 }) });
    const vmSpec = fc.record({ ramBytes: fc.integer({ min: 1, max: 4 }).map((g) => g * GiB), vcpus: fc.integer({ min: 1, max: 4 }), host: fc.integer({ min: -1, max: hostCount - 1 }) });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), vm, src: host, dst: host }),
      fc.record({ kind: fc.constant('release' as const), which: fc.nat(), moved: fc.boolean() }),
      fc.record({ kind: fc.constant('state' as const), host, state: fc.constantFrom(...STATES) }),
      fc.record({ kind: fc.constant('query' as const), vm, exclude: fc.integer({ min: -1, max: hostCount - 1 }) }),
    );
    return fc.record({
      hosts: fc.array(hostSpec, { minLength: hostCount, maxLength: hostCount }),
      vms: fc.array(vmSpec, { minLength: vmCount, maxLength: vmCount }),
      maxIn: fc.constant(maxIn),
      ops: fc.array(op, { maxLength: 150, size: 'max' }),
    });
  });

describe('HostTable', () => {
  const fleet = fleetOf(
    [
      { memoryBytes: 64 * GiB, vcpus: 16 },
      { memoryBytes: 64 * GiB, vcpus: 16 },
      { memoryBytes: 32 * GiB, vcpus: 4 },
    ],
    [
      { ramBytes: 8 * GiB, vcpus: 4, host: 0 },
      { ramBytes: 16 * GiB, vcpus: 2, host: 0 },
      { ramBytes: 4 * GiB, vcpus: 4, host: 1 },
      { ramBytes: 4 * GiB, vcpus: 4, host: -1 },
    ],
  );
  const vm = (id: number) => fleet.vms[id]!;

  it('starts with every host up and the placed VMs taking their room', () => {
    const t = new HostTable(fleet, 1, 1);
    expect([0, 1, 2].map((h) => t.state(h))).toEqual(['up', 'up', 'up']);
    expect([0, 1, 2].map((h) => t.freeMemory(h))).toEqual([40 * GiB, 60 * GiB, 32 * GiB]);
    expect([0, 1, 2].map((h) => t.freeVcpus(h))).toEqual([10, 12, 4]);
    expect([0, 1, 2, 3].map((v) => t.hostOf(v))).toEqual([0, 0, 1, -1]);
    expect(t.load(0)).toBeCloseTo(24 / 64);
  });

  it('reserves room and slots on the destination when a migration starts', () => {
    const t = new HostTable(fleet, 1, 1);
    t.reserve(vm(0), 0, 1);
    expect(t.outbound(0)).toBe(1);
    expect(t.inbound(1)).toBe(1);
    expect(t.hasOutboundSlot(0)).toBe(false);
    expect(t.hasInboundSlot(1)).toBe(false);
    expect(t.freeMemory(1)).toBe(52 * GiB);
    expect(t.freeVcpus(1)).toBe(8);
    expect(t.hostOf(0)).toBe(0);
  });

  it('moves the VM and frees its room on the source when the migration moved it', () => {
    const t = new HostTable(fleet, 1, 1);
    t.reserve(vm(0), 0, 1);
    t.release(vm(0), 0, 1, true);
    expect(t.hostOf(0)).toBe(1);
    expect([t.freeMemory(0), t.freeMemory(1)]).toEqual([48 * GiB, 52 * GiB]);
    expect([t.freeVcpus(0), t.freeVcpus(1)]).toEqual([14, 8]);
    expect([t.outbound(0), t.inbound(1)]).toEqual([0, 0]);
  });

  it('gives the reservation back to the destination when the migration did not move the VM', () => {
    const t = new HostTable(fleet, 1, 1);
    t.reserve(vm(0), 0, 1);
    t.release(vm(0), 0, 1, false);
    expect(t.hostOf(0)).toBe(0);
    expect([t.freeMemory(0), t.freeMemory(1)]).toEqual([40 * GiB, 60 * GiB]);
    expect([t.outbound(0), t.inbound(1)]).toEqual([0, 0]);
  });

  it('chooses the up host with the most free memory that has an inbound slot and room, other than the source', () => {
    const t = new HostTable(fleet, 1, 1);
    expect(t.destinationFor(vm(3), 0)).toBe(1);
    expect(t.destinationFor(vm(3), 1)).toBe(0);
    t.setState(1, 'draining');
    expect(t.destinationFor(vm(3), 0)).toBe(2);
    t.setState(1, 'up');
    t.reserve(vm(2), 0, 1); // host 1 has no inbound slot left
    expect(t.destinationFor(vm(3), 2)).toBe(0);
    expect(t.destinationFor(vm(1), 2)).toBe(0);
    expect(t.destinationFor({ ...vm(1), vcpus: 11 }, 2)).toBe(-1);
  });

  it('knows whether a host is upgrading', () => {
    const t = new HostTable(fleet, 1, 1);
    expect(t.anyUpgrading()).toBe(false);
    t.setState(0, 'upgrading');
    t.setState(1, 'upgrading');
    t.setState(0, 'up');
    expect(t.anyUpgrading()).toBe(true);
    t.setState(1, 'failed');
    expect(t.anyUpgrading()).toBe(false);
  });

  it('lists the VMs on given hosts, in VM order', () => {
    const t = new HostTable(fleet, 1, 1);
    expect([...t.vmsOn([1, 0]).entries()]).toEqual([
      [1, [2]],
      [0, [0, 1]],
    ]);
    expect(t.vmsOn([]).size).toBe(0);
  });

  it('chooses the destination the linear scan would, and keeps its accounts, over any sequence of operations', () => {
    fc.assert(
      fc.property(caseArb, ({ hosts, vms, maxIn, ops }) => {
        const f = fleetOf(hosts, vms);
        const t = new HostTable(f, 2, maxIn);
        const free = hosts.map((h) => h.memoryBytes);
        for (const v of vms) if (v.host >= 0) free[v.host]! -= v.ramBytes;
        const inbound = hosts.map(() => 0);
        const active: { vm: Vm; src: number; dst: number }[] = [];
        for (const op of ops) {
          if (op.kind === 'reserve') {
            const r = { vm: f.vms[op.vm]!, src: op.src, dst: op.dst };
            t.reserve(r.vm, r.src, r.dst);
            active.push(r);
            free[r.dst]! -= r.vm.ramBytes;
            inbound[r.dst]!++;
          } else if (op.kind === 'release') {
            if (active.length === 0) continue;
            const [r] = active.splice(op.which % active.length, 1);
            t.release(r!.vm, r!.src, r!.dst, op.moved);
            free[op.moved ? r!.src : r!.dst]! += r!.vm.ramBytes;
            inbound[r!.dst]!--;
          } else if (op.kind === 'state') {
            t.setState(op.host, op.state);
          } else {
            const v = f.vms[op.vm]!;
            expect(t.destinationFor(v, op.exclude)).toBe(scanDestination(t, v, op.exclude));
          }
        }
        expect(hosts.map((_, h) => t.freeMemory(h))).toEqual(free);
        expect(hosts.map((_, h) => t.inbound(h))).toEqual(inbound);
      }),
      { numRuns: 300 },
    );
  });
});

import { kvmHostSpecKey } from './kvm-host-spec-key.js';
import type { KvmHost, KvmHostSpec } from './kvm-host.js';
import { resolveKvmHost } from './resolve-kvm-host.js';

/**
 * A host's KVM in effect and, beside it, the same kernel and CPU with each MMU (`kvm.tdp_mmu=Y` and `=N`), the
 * overrides applied to both and the disable path left to each MMU. A migration job evaluates every disable strategy
 * from one guest timeline: the TDP MMU's on the TDP MMU, `rmap-zap` on the shadow MMU, whichever MMU the host runs.
 */
export interface KvmHostMmus {
  readonly inEffect: KvmHost;
  readonly tdp: KvmHost;
  readonly shadow: KvmHost;
}

/** Resolved so far, by spec (every job resolves its host's; a fleet has a handful). */
const resolved = new Map<string, KvmHostMmus>();

/** Resolves the host in effect (throws KernelSettingsInvalid as resolveKvmHost does) and its counterpart MMU. */
export function resolveKvmHostMmus(spec: KvmHostSpec = {}): KvmHostMmus {
  const key = kvmHostSpecKey(spec);
  let mmus = resolved.get(key);
  if (!mmus) {
    mmus = resolve(spec);
    resolved.set(key, mmus);
  }
  return mmus;
}

function resolve(spec: KvmHostSpec): KvmHostMmus {
  const inEffect = resolveKvmHost(spec);
  const { strategy: _inEffectOnly, ...kernel } = spec;
  const counterpart = resolveKvmHost({ ...kernel, tdpMmu: !inEffect.tdpMmu });
  return inEffect.tdpMmu ? { inEffect, tdp: inEffect, shadow: counterpart } : { inEffect, tdp: counterpart, shadow: inEffect };
}

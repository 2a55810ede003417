/**
 * `calc-dirty-rate` modes (QEMU 6.2 – 10.2 `migration/dirtyrate.c`): `page-sampling` (the default when `mode` is
 * omitted) hashes sampled pages and never enables dirty logging; `dirty-bitmap` enables logging, syncs, waits and
 * stops it (a full enable + disable cycle on a live VM); `dirty-ring` counts per vCPU on the KVM dirty ring, also
 * enabling and stopping logging.
 */
export const PROBE_MODES = ['page-sampling', 'dirty-bitmap', 'dirty-ring'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];

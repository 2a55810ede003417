import { CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { chunksDirty } from './chunks-dirty.js';
import { passStep } from './pass-step.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import type { StepPlan } from './step-plan.js';
import { WIRE } from './qemu-defaults.js';
import { totalPages } from './total-pages.js';
import { zeroShare } from '../workload/zero-share.js';
import { BITMAP_WORD_PAGES, wordsDirty } from './words-dirty.js';

/** A pass is simulated in at most this many steps of whole 1 GiB chunks (CLEAR, then send). */
const STEPS_PER_PASS = 16;

/**
 * Starts a pass over guest memory at `nowS` (one round of `ram_find_and_save_block` over all RAM): plans what it
 * sends (the first pass all of RAM, zero pages as markers; later ones the pages dirty at the last sync) and the
 * CLEARs it needs, then takes its first step. Returns that step.
 */
export function startPass(ctx: PrecopyContext, s: PrecopyState, nowS: number): StepPlan {
  const { classes, pages } = ctx;
  const first = s.rounds === 0;
  const access = ctx.job.vm.workload.access;
  const zeroPages = first ? pages * zeroShare(ctx.job.vm.zero_fraction, ctx.job.vm.workload) : 0;
  const normalPages = (first ? pages : totalPages(s.dirty)) - zeroPages;
  const chunks = first ? Math.ceil(pages / CLEAR_CHUNK_PAGES) : chunksDirty(classes, s.dirty, access, ctx.running);
  s.phase = 'pass';
  s.pass = {
    first,
    zeroPages,
    normalPages,
    bytes: normalPages * WIRE.normalPageBytes + zeroPages * WIRE.zeroPageBytes,
    words: first ? classes.map((c) => c.pages / BITMAP_WORD_PAGES) : wordsDirty(classes, s.dirty, access, ctx.running),
    chunks,
    // Steps group chunks, so an interrupt stops the pass where it is.
    steps: Math.max(1, Math.min(STEPS_PER_PASS, Math.ceil(chunks))),
    startS: nowS,
    stepsDone: 0,
    transferS: 0,
  };
  return passStep(ctx, s);
}

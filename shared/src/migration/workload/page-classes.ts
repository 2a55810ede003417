import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { WorkloadSpec } from './workload-spec.js';

const PAGE = 4096;

/** Rounds a page count to whole 2 MiB regions, at least one region when positive. */
function toRegions(pages: number, total: number): number {
  if (pages <= 0) return 0;
  return Math.min(total, Math.max(512, Math.round(pages / 512) * 512));
}

function reads(writeRate: number, readShare: number): number {
  return readShare >= 1 ? 0 : (writeRate * readShare) / (1 - readShare);
}

/**
 * The page classes of a workload on a guest of `pages` 4 KiB pages with `vcpus` vCPUs. Classes cover all pages,
 * hot/working sets first. The touched share of RAM (`touched_fraction`, what KVM has mapped) fills the classes in
 * that order: a workload's working set is memory it touches.
 */
export function pageClasses(spec: WorkloadSpec, pages: number, vcpus: number): PageClass[] {
  void vcpus;
  const out: PageClass[] = [];
  let touched = spec.touched_fraction * pages;
  const add = (name: string, n: number, writeRate: number, readRate: number) => {
    if (n <= 0) return;
    const mapped = Math.min(1, touched / n);
    touched -= mapped * n;
    out.push({ name, pages: n, writeRate, readRate, mapped });
  };
  switch (spec.kind) {
    case 'idle':
      add('idle', pages, 0, 0);
      break;
    case 'uniform': {
      const ws = toRegions(spec.working_set * pages, pages);
      const w = spec.dirty_rate_bytes_per_s / PAGE / ws;
      add('working-set', ws, w, reads(w, spec.read_share));
      add('outside-working-set', pages - ws, 0, 0);
      break;
    }
    case 'hotcold': {
      const hot = toRegions(spec.hot_fraction * pages, pages - 512);
      const cold = pages - hot;
      const total = spec.dirty_rate_bytes_per_s / PAGE;
      const wHot = (spec.hot_write_share * total) / hot;
      const wCold = cold > 0 ? ((1 - spec.hot_write_share) * total) / cold : 0;
      add('hot', hot, wHot, reads(wHot, spec.read_share));
      add('cold', cold, wCold, reads(wCold, spec.read_share));
      break;
    }
    case 'memstress': {
      // Each page is touched once per pass; a written fraction of the touches are writes.
      const touch = 1 / spec.pass_seconds;
      add('memstress', pages, (touch * spec.write_percent) / 100, (touch * (100 - spec.write_percent)) / 100);
      break;
    }
  }
  return out;
}

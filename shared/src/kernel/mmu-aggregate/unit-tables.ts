import { PG_LEVEL_1G, SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';

/**
 * Page-table pages under one split huge unit: a 2M unit has one 4K table; a 1G unit has one 2M table and the
 * 512 4K tables below it.
 */
export function unitTables(level: 1 | 2 | 3): number {
  return level === PG_LEVEL_1G ? 1 + SPTE_ENT_PER_PAGE : 1;
}

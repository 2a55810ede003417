import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../../dashboards/src/index.js';
import { dashboardQueries, type DashboardJson } from '../../helpers/dashboard-queries.js';

const files = generatedFiles();
const dashboards = Object.entries(files)
  .filter(([path]) => path.startsWith('dashboards/generated/'))
  .map(([path, text]) => ({ path, json: JSON.parse(text) as DashboardJson }));

describe('dashboards as code', () => {
  it.each(Object.keys(files))('committed %s is what `npm run dashboards` generates', (path) => {
    expect(readFileSync(path, 'utf8'), `${path} is stale: run \`npm run dashboards\` and commit the result`).toBe(files[path]);
  });

  it('has the overview and zap-vs-promote dashboards, with stable uids matching their file names', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(['migsim-overview', 'migsim-zap-vs-promote']);
    for (const d of dashboards) expect(d.path).toBe(`dashboards/generated/${d.json.uid}.json`);
  });

  it('gives every dashboard a Prometheus datasource variable that every panel and target uses', () => {
    for (const { json } of dashboards) {
      const v = json.templating.list.find((x) => x.name === 'datasource');
      expect(v, json.uid).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const p of json.panels) {
        expect(p.datasource, `${json.uid} / ${p.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets) expect(t.datasource, `${json.uid} / ${p.title} / ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('sets a unit, a description, a unique id and at least one query on every panel', () => {
    for (const { json } of dashboards) {
      const ids = json.panels.map((p) => p.id);
      expect(new Set(ids).size, json.uid).toBe(ids.length);
      for (const p of json.panels) {
        expect(p.fieldConfig.defaults.unit, `${json.uid} / ${p.title}`).toMatch(/\S/);
        expect(p.description, `${json.uid} / ${p.title}`).toMatch(/\S/);
        expect(Number.isInteger(p.id) && p.id > 0).toBe(true);
        expect(p.targets.length).toBeGreaterThan(0);
      }
    }
  });

  it('queries only migsim_ metrics with bounded labels', () => {
    const queries = dashboards.flatMap((d) => dashboardQueries(d.json));
    expect(queries.length).toBeGreaterThan(15);
    for (const q of queries) {
      const metrics = q.expr.match(/\bmigsim_[a-z_]+/g) ?? [];
      expect(metrics.length, q.expr).toBeGreaterThan(0);
      expect(q.expr, 'no per-VM or per-job label').not.toMatch(/\b(vm|job_id|id)\b\s*[=~,)]/);
    }
  });

  it('covers the families the zap-vs-promote comparison needs', () => {
    const exprs = dashboards.flatMap((d) => dashboardQueries(d.json)).map((q) => q.expr).join('\n');
    for (const m of [
      'migsim_dirty_log_disable_duration_seconds_bucket',
      'migsim_vcpu_stall_seconds_total',
      'migsim_remote_tlb_flushes_total',
      'migsim_page_faults_total',
      'migsim_promote_bailouts_total',
      'migsim_host_cpu_seconds_total',
      'migsim_guest_impact_seconds_total',
      'migsim_jobs_in_flight',
      'migsim_migrations_total',
      'migsim_evacuation_waves_done',
      'migsim_queue_jobs',
      'migsim_worker_busy_seconds_total',
      'migsim_flows_active',
      'migsim_link_utilisation',
      'migsim_host_cpu_contention_seconds_total',
      'migsim_migration_memory_transfer_rate_bytes_bucket',
      'migsim_migration_dirty_memory_rate_bytes_bucket',
    ]) expect(exprs).toContain(m);
  });
});

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { board, quantile, statPanel, timeseriesPanel } from './common.js';

/** migsim / cluster overview: what the fleet is doing and how the coordinator and workers keep up. */
export function overviewDashboard(): dashboard.Dashboard {
  return board('migsim-overview', 'migsim / cluster overview', ['overview'])
    .withPanel(
      statPanel({
        id: 1,
        title: 'Migrations in flight',
        description: 'Jobs the coordinator has sent to the workers and not yet applied.',
        unit: 'short',
        queries: [{ expr: 'sum(migsim_jobs_in_flight)', legend: 'in flight' }],
        grid: { x: 0, y: 0, w: 6, h: 5 },
      }),
    )
    .withPanel(
      statPanel({
        id: 2,
        title: 'Evacuation progress',
        description: 'Maintenance waves finished, as a share of the scenario\u2019s waves.',
        unit: 'percentunit',
        queries: [{ expr: 'max(migsim_evacuation_waves_done) / clamp_min(max(migsim_evacuation_waves), 1)', legend: 'waves done' }],
        grid: { x: 6, y: 0, w: 6, h: 5 },
      }),
    )
    .withPanel(
      statPanel({
        id: 3,
        title: 'Migrations by outcome',
        description: 'Migrations finished so far: completed, cancelled (incl. aborted by the completion timeout), failed.',
        unit: 'short',
        queries: [{ expr: 'sum by (outcome) (migsim_migrations_total)', legend: '{{outcome}}' }],
        grid: { x: 12, y: 0, w: 12, h: 5 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 4,
        title: 'Migrations finished per second, by outcome',
        description: 'Rate at which the coordinator applies migration results.',
        unit: 'ops',
        queries: [{ expr: 'sum by (outcome) (rate(migsim_migrations_total[$__rate_interval]))', legend: '{{outcome}}' }],
        grid: { x: 0, y: 5, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 5,
        title: 'Queue depth',
        description: 'Jobs in the BullMQ jobs queue by state (completed jobs are removed at once, so completed stays near 0).',
        unit: 'short',
        queries: [{ expr: 'sum by (queue, state) (migsim_queue_jobs)', legend: '{{queue}} {{state}}' }],
        grid: { x: 12, y: 5, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 6,
        title: 'Worker utilisation',
        description: 'Share of the workers\u2019 job slots busy simulating (busy seconds per second over concurrency).',
        unit: 'percentunit',
        queries: [{ expr: 'sum(rate(migsim_worker_busy_seconds_total[$__rate_interval])) / clamp_min(sum(migsim_worker_concurrency), 1)', legend: 'busy' }],
        grid: { x: 0, y: 13, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 7,
        title: 'Job simulation wall time (p50, p99)',
        description: 'Real time a worker takes to simulate one job.',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'migsim_worker_job_wall_seconds_bucket'), legend: 'p50' },
          { expr: quantile(0.99, 'migsim_worker_job_wall_seconds_bucket'), legend: 'p99' },
        ],
        grid: { x: 12, y: 13, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 8,
        title: 'Migration time and downtime (p99, simulated)',
        description: 'Simulated total time and stop-and-copy downtime of migrations.',
        unit: 's',
        queries: [
          { expr: quantile(0.99, 'migsim_migration_duration_seconds_bucket'), legend: 'total time p99' },
          { expr: quantile(0.99, 'migsim_migration_downtime_seconds_bucket'), legend: 'downtime p99' },
        ],
        grid: { x: 0, y: 21, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 9,
        title: 'Bytes migrated per second',
        description: 'Simulated bytes sent by migrations (ram.transferred), per second of wall time.',
        unit: 'Bps',
        queries: [{ expr: 'sum(rate(migsim_migration_transferred_bytes_total[$__rate_interval]))', legend: 'transferred' }],
        grid: { x: 12, y: 21, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 10,
        title: 'Migration flows on the fabric',
        description: 'Flows the network model carries at the simulated time reached (one per running migration; KubeVirt: kubevirt_vmi_migrations_in_running_phase), beside the jobs in flight.',
        unit: 'short',
        queries: [
          { expr: 'sum(migsim_flows_active)', legend: 'flows' },
          { expr: 'sum(migsim_jobs_in_flight)', legend: 'jobs in flight' },
        ],
        grid: { x: 0, y: 29, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 11,
        title: 'Link utilisation by tier',
        description: 'Mean utilisation of each tier\u2019s links (NIC, top-of-rack uplink, spine) by migrations at the simulated time reached.',
        unit: 'percentunit',
        queries: [{ expr: 'max by (tier) (migsim_link_utilisation)', legend: '{{tier}}' }],
        grid: { x: 12, y: 29, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 12,
        title: 'Migration transfer rate and guest dirty rate (p50)',
        description: 'Per migration: the mean rate on the wire (transferred bytes over its span; KubeVirt: kubevirt_vmi_migration_memory_transfer_rate_bytes) and the dirty rate query-migrate reports (KubeVirt: kubevirt_vmi_migration_dirty_memory_rate_bytes).',
        unit: 'Bps',
        queries: [
          { expr: quantile(0.5, 'migsim_migration_memory_transfer_rate_bytes_bucket'), legend: 'transfer rate p50' },
          { expr: quantile(0.5, 'migsim_migration_dirty_memory_rate_bytes_bucket'), legend: 'dirty rate p50' },
        ],
        grid: { x: 0, y: 37, w: 24, h: 8 },
      }),
    )
    .build();
}

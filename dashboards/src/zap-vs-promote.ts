import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { board, quantile, statPanel, timeseriesPanel, zapMinusPromote } from './common.js';

/** The guest-impact components that are the disable's own (see GUEST_IMPACT_OF_DISABLE). */
const DISABLE_GUEST = 'component=~"disable_flush_stalls|refaults|disable_bql_stall"';

/**
 * migsim / zap vs promote: what disabling dirty logging costs the fleet under each strategy, beside the whole cost
 * of the migrations. Every job adds its cost under every strategy (a paired counterfactual), so the series compare
 * like with like.
 */
export function zapVsPromoteDashboard(): dashboard.Dashboard {
  return board('migsim-zap-vs-promote', 'migsim / zap vs promote', ['mmu'])
    .withPanel(
      statPanel({
        id: 1,
        title: 'Host CPU saved by promote over zap',
        description: 'Cumulative host CPU seconds of zap minus promote (only the disable differs: the other components are the same under both).',
        unit: 's',
        queries: [{ expr: zapMinusPromote('migsim_host_cpu_seconds_total'), legend: 'saved' }],
        grid: { x: 0, y: 0, w: 8, h: 5 },
      }),
    )
    .withPanel(
      statPanel({
        id: 2,
        title: 'Host CPU of migrations and probes, by strategy',
        description: 'Cumulative host CPU seconds under each strategy, every component (migration thread, dirty tracking, enable and split, disable).',
        unit: 's',
        queries: [{ expr: 'sum by (strategy) (migsim_host_cpu_seconds_total)', legend: '{{strategy}}' }],
        grid: { x: 8, y: 0, w: 16, h: 5 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 3,
        title: 'Disable time per job (p50, p99) by strategy',
        description: 'Time on the ioctl thread to disable dirty logging, for jobs whose disable ran on the source.',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'migsim_dirty_log_disable_duration_seconds_bucket', 'strategy'), legend: '{{strategy}} p50' },
          { expr: quantile(0.99, 'migsim_dirty_log_disable_duration_seconds_bucket', 'strategy'), legend: '{{strategy}} p99' },
        ],
        grid: { x: 0, y: 5, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 4,
        title: 'vCPU stall seconds per second, by strategy',
        description: 'vCPU time lost to MMU work (faults, PML, flush IPIs, the refault storm), per second.',
        unit: 's',
        queries: [{ expr: 'sum by (strategy) (rate(migsim_vcpu_stall_seconds_total[$__rate_interval]))', legend: '{{strategy}}' }],
        grid: { x: 12, y: 5, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 5,
        title: 'Remote TLB flushes per second, by strategy',
        description: 'kvm_flush_remote_tlbs calls on source hosts.',
        unit: 'ops',
        queries: [{ expr: 'sum by (strategy) (rate(migsim_remote_tlb_flushes_total[$__rate_interval]))', legend: '{{strategy}}' }],
        grid: { x: 0, y: 13, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 6,
        title: 'Page faults per second, by strategy and kind',
        description: 'EPT/NPT violations on source hosts; refaults are the storm after zapping.',
        unit: 'ops',
        queries: [{ expr: 'sum by (strategy, fault_kind) (rate(migsim_page_faults_total[$__rate_interval]))', legend: '{{strategy}} {{fault_kind}}' }],
        grid: { x: 12, y: 13, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 7,
        title: 'Promotion bail-outs, by reason',
        description: 'Regions in-place promotion gave up on (falling back to zapping), cumulative.',
        unit: 'short',
        queries: [{ expr: 'sum by (reason) (migsim_promote_bailouts_total{strategy="promote"})', legend: '{{reason}}' }],
        grid: { x: 0, y: 21, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 8,
        title: 'Cumulative saving of promote over zap',
        description: 'Host CPU seconds, disable seconds and vCPU stall seconds of zap minus promote, cumulative.',
        unit: 's',
        queries: [
          { expr: zapMinusPromote('migsim_host_cpu_seconds_total'), legend: 'host CPU' },
          { expr: zapMinusPromote('migsim_dirty_log_disable_seconds_total'), legend: 'disable' },
          { expr: zapMinusPromote('migsim_vcpu_stall_seconds_total'), legend: 'vCPU stall' },
        ],
        grid: { x: 12, y: 21, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 9,
        title: 'Host CPU by component, by strategy',
        description:
          'Cumulative host CPU seconds: migration thread / multifd (per byte), dirty tracking (PML, write-protection faults, GET/CLEAR), enable and splits, and the disable (the only component that depends on the strategy).',
        unit: 's',
        queries: [{ expr: 'sum by (strategy, component) (migsim_host_cpu_seconds_total)', legend: '{{strategy}} {{component}}' }],
        grid: { x: 0, y: 29, w: 12, h: 8 },
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: 10,
        title: 'Guest impact by component, by strategy',
        description:
          'Cumulative vCPU seconds guests lost: downtime, 4K-EPT slowdown, throttling, dirty tracking, flush and BQL stalls while logging, post-copy faults; and the disable\'s flush stalls, refaults and BQL stalls.',
        unit: 's',
        queries: [{ expr: 'sum by (strategy, component) (migsim_guest_impact_seconds_total)', legend: '{{strategy}} {{component}}' }],
        grid: { x: 12, y: 29, w: 12, h: 8 },
      }),
    )
    .withPanel(
      statPanel({
        id: 11,
        title: "The disable's share of the whole host CPU, by strategy",
        description: 'Host CPU of the disable over all host CPU migrations and probes cost, under each strategy.',
        unit: 'percentunit',
        queries: [
          {
            expr: 'sum by (strategy) (migsim_host_cpu_seconds_total{component="disable"}) / clamp_min(sum by (strategy) (migsim_host_cpu_seconds_total), 1e-9)',
            legend: '{{strategy}}',
          },
        ],
        grid: { x: 0, y: 37, w: 12, h: 5 },
      }),
    )
    .withPanel(
      statPanel({
        id: 12,
        title: "The disable's share of the guest impact, by strategy",
        description: "vCPU time lost to the disable (its flush stalls, refaults, BQL stalls) over all vCPU time lost, under each strategy.",
        unit: 'percentunit',
        queries: [
          {
            expr: `sum by (strategy) (migsim_guest_impact_seconds_total{${DISABLE_GUEST}}) / clamp_min(sum by (strategy) (migsim_guest_impact_seconds_total), 1e-9)`,
            legend: '{{strategy}}',
          },
        ],
        grid: { x: 12, y: 37, w: 12, h: 5 },
      }),
    )
    .withPanel(
      statPanel({
        id: 13,
        title: 'Host CPU migrations took from guests, by strategy',
        description: 'CPU seconds migrations needed on their hosts (sources and destinations) beyond the cores the guests left idle, under each strategy and the strategies in effect (in_effect); added when a run ends.',
        unit: 's',
        queries: [{ expr: 'sum by (strategy) (migsim_host_cpu_contention_seconds_total)', legend: '{{strategy}}' }],
        grid: { x: 0, y: 42, w: 24, h: 5 },
      }),
    )
    .build();
}

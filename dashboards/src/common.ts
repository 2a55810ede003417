import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel reads from the Prometheus chosen in the dashboard's `datasource` variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

export function query(expr: string, legend: string, refId: string = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DATASOURCE);
}

/** The q-quantile of a histogram over the rate interval, summed over everything but `by` (and le). */
export function quantile(q: number, bucket: string, by: string = ''): string {
  return `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${bucket}[$__rate_interval])))`;
}

/** A cumulative counter under zap minus under promote: what promotion saves. */
export function zapMinusPromote(metric: string): string {
  return `sum(${metric}{strategy="zap"}) - sum(${metric}{strategy="promote"})`;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id (s, bytes, ops, percentunit, short, …): every panel has one. */
  readonly unit: string;
  readonly queries: readonly { expr: string; legend: string }[];
  readonly grid: { x: number; y: number; w: number; h: number };
  /** Stable panel id (unique within its dashboard), so links to a panel survive regeneration. */
  readonly id: number;
}

export function timeseriesPanel(p: PanelSpec): timeseries.PanelBuilder {
  const b = new timeseries.PanelBuilder().id(p.id).title(p.title).description(p.description).datasource(DATASOURCE).unit(p.unit).gridPos(p.grid);
  p.queries.forEach((q, i) => b.withTarget(query(q.expr, q.legend, String.fromCharCode(65 + i))));
  return b;
}

export function statPanel(p: PanelSpec): stat.PanelBuilder {
  const b = new stat.PanelBuilder()
    .id(p.id)
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .unit(p.unit)
    .gridPos(p.grid)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']));
  p.queries.forEach((q, i) => b.withTarget(query(q.expr, q.legend, String.fromCharCode(65 + i))));
  return b;
}

export function board(uid: string, title: string, tags: string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags(['migsim', 'generated', ...tags])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(datasourceVariable());
}

/** The parts of a generated Grafana dashboard the tests read. */
export interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query?: string }[] };
  readonly panels: readonly {
    readonly id: number;
    readonly title: string;
    readonly description?: string;
    readonly datasource: unknown;
    readonly fieldConfig: { readonly defaults: { readonly unit?: string } };
    readonly targets: readonly { readonly expr: string; readonly refId: string; readonly datasource: unknown }[];
  }[];
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** Every query of every panel, labelled for error messages. */
export function dashboardQueries(d: DashboardJson): PanelQuery[] {
  return d.panels.flatMap((p) => p.targets.map((t) => ({ dashboard: d.uid, panel: p.title, refId: t.refId, expr: t.expr })));
}

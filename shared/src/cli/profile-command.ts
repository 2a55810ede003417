import { Command, Option } from 'commander';
import { COST_KEYS } from '../kernel/mmu/cost-profile.js';
import { COST_DESCRIPTIONS } from '../kernel/mmu/default-profile.js';
import { profileFromFlag } from './profile-flag.js';

/** `migsim profile`: the cost constants of a profile, each with its unit and where its value comes from. */
export function profileCommand(out: (text: string) => void): Command {
  return new Command('profile')
    .description('Show the cost constants of a profile: value, unit, what it costs, and its source (a measured point or an assumption).')
    .helpOption('-h, --help', 'show this help')
    .addOption(new Option('--profile <name|file>', "'default' or a JSON file of overrides").default('default'))
    .addOption(new Option('--json', 'print JSON').default(false))
    .addOption(new Option('--markdown', 'print a Markdown table (as in docs/model.md)').default(false))
    .action((opts: { profile: string; json: boolean; markdown: boolean }) => {
      const profile = profileFromFlag(opts.profile).profile;
      const rows = COST_KEYS.map((k) => {
        const d = COST_DESCRIPTIONS[k];
        const src = d.provenance.kind === 'fitted' ? `fitted to point ${d.provenance.points.join(', ')}: ${d.provenance.derivation}` : `assumption: ${d.provenance.rationale}`;
        return { name: k, value: profile.costs[k], unit: d.unit, what: d.what, source: src };
      });
      if (opts.json) {
        out(JSON.stringify({ name: profile.name, costs: rows, params: profile.params }, null, 2));
        return;
      }
      if (opts.markdown) {
        const cell = (t: string) => t.replace(/\|/g, '\\|');
        const md = ['| constant | value | unit | what it prices | source |', '|---|---|---|---|---|'];
        for (const r of rows) md.push(`| \`${r.name}\` | ${Number(r.value.toPrecision(6))} | ${r.unit} | ${cell(r.what)} | ${cell(r.source)} |`);
        md.push(`| \`cond_resched_interval_ns\` | ${Number(profile.params.cond_resched_interval_ns.toPrecision(6))} | ns | yield interval of long walks | fitted to point b: 76 batched flushes |`);
        out(md.join('\n'));
        return;
      }
      const lines = [`profile: ${profile.name}`];
      for (const r of rows) lines.push(`${r.name} = ${Number(r.value.toPrecision(6))} ${r.unit}\n    ${r.what}\n    ${r.source}`);
      lines.push(`cond_resched_interval_ns = ${Number(profile.params.cond_resched_interval_ns.toPrecision(6))} ns\n    yield interval of long walks; fitted to point b: 76 batched flushes`);
      out(lines.join('\n'));
    });
}

import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * The SimGrid 3.32 peer harness (`simgrid-fleet`, see /work/shared/peers/simgrid/README.md): where its binary is,
 * and one run of it. Shared by the fleet benchmark and the side-by-side script.
 */

/** Where the harness is looked for when neither `--simgrid` nor `MIGSIM_SIMGRID` names it. */
export const DEFAULT_SIMGRID = '/tmp/simgrid/simgrid-fleet';

export type SimgridLocation = { readonly path: string } | { readonly path: null; readonly reason: string };

/** The harness binary: `explicit`, else `$MIGSIM_SIMGRID`, else DEFAULT_SIMGRID; null with a reason when not runnable. */
export function locateSimgrid(explicit?: string): SimgridLocation {
  const path = explicit ?? process.env.MIGSIM_SIMGRID ?? DEFAULT_SIMGRID;
  const from = explicit ? '--simgrid' : process.env.MIGSIM_SIMGRID ? 'MIGSIM_SIMGRID' : 'the default path';
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    return { path: null, reason: `no executable simgrid-fleet at ${path} (${from}); build it with make in a copy of the peer harness, or set MIGSIM_SIMGRID` };
  }
}

/** The keys of simgrid-fleet's JSON that we read. */
export interface SimgridRun {
  readonly simgrid_version: string;
  readonly params: Record<string, unknown>;
  readonly migrations: number;
  readonly makespan_s: number;
  readonly mig_mean_s: number;
  readonly mig_min_s: number;
  readonly mig_max_s: number;
  readonly bytes_moved: number;
  readonly wall_s: number;
  readonly wall_setup_s: number;
  readonly peak_rss_mib: number;
}

/** Runs the harness once (its stderr discarded) and parses its one JSON object; throws with its stderr on failure. */
export function runSimgrid(bin: string, args: readonly string[], timeoutMs = 15 * 60_000): SimgridRun {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutMs });
  if (r.status !== 0) {
    const tail = (r.stderr ?? '').split('\n').slice(-5).join('\n');
    throw new Error(`simgrid-fleet ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.error?.message ?? tail}`);
  }
  return JSON.parse(r.stdout) as SimgridRun;
}

/** `nproc` and the CPU model from /proc/cpuinfo, e.g. "2 × AMD EPYC". */
export function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux: keep the os module's name
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(cpus().length);
  return `nproc ${nproc}, ${model}, Node ${process.version}`;
}

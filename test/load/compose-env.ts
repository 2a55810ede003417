import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** KEY=VALUE lines of an env file (compose's .env format: comments, blank lines, optional quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[line.slice(0, eq).trim()] = v;
  }
  return out;
}

/** Compose's variable interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (m, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (m === '$$') return '$';
    const v = vars[name!];
    const unsetOrEmpty = v === undefined || v === '';
    if (op === ':-') return unsetOrEmpty ? (arg ?? '') : v;
    if (op === '-') return v === undefined ? (arg ?? '') : v;
    if (op === ':?' && unsetOrEmpty) throw new Error(`${name}: ${arg}`);
    if (op === '?' && v === undefined) throw new Error(`${name}: ${arg}`);
    return v ?? '';
  });
}

export interface ComposeService {
  readonly environment: Record<string, string>;
  readonly command: readonly string[];
}

/**
 * The services of a compose file with variables interpolated the way compose does (the shell's environment over
 * the env file), environment as a map and command as a list.
 */
export function readCompose(composeFile: string, envFile: string, env: Record<string, string | undefined> = process.env): Record<string, ComposeService> {
  const vars = { ...parseEnvFile(readFileSync(envFile, 'utf8')), ...env };
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, { environment?: unknown; command?: unknown }> };
  const out: Record<string, ComposeService> = {};
  for (const [name, svc] of Object.entries(doc.services)) {
    const environment: Record<string, string> = {};
    if (Array.isArray(svc.environment)) {
      for (const kv of svc.environment as string[]) {
        const eq = kv.indexOf('=');
        environment[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? (vars[kv] ?? '') : interpolate(kv.slice(eq + 1), vars);
      }
    } else if (svc.environment && typeof svc.environment === 'object') {
      for (const [k, v] of Object.entries(svc.environment as Record<string, unknown>)) environment[k] = v === null ? (vars[k] ?? '') : interpolate(String(v), vars);
    }
    const command = Array.isArray(svc.command) ? (svc.command as unknown[]).map((c) => interpolate(String(c), vars)) : typeof svc.command === 'string' ? interpolate(svc.command, vars).split(/\s+/).filter(Boolean) : [];
    out[name] = { environment, command };
  }
  return out;
}

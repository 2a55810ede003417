import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRICS_PORT, prometheusYaml } from '../../../dashboards/src/prometheus-config.js';
import { coordinatorEnvSchema } from '../../../shared/src/cluster/coordinator/coordinator-env.js';
import { loadgenEnvSchema } from '../../../shared/src/cluster/loadgen/loadgen-env.js';
import { workerEnvSchema } from '../../../shared/src/cluster/worker/worker-env.js';
import { parseEnvFile } from '../../load/compose-env.js';

/*
 * deploy/ checked offline: docker-compose 1.29.2 (Debian's package; no Docker engine needed) validates and
 * interpolates the compose file, and the interpolated result is checked against the services' config schemas,
 * the generated prometheus.yml, the Grafana provisioning and the Dockerfile.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPLOY = join(ROOT, 'deploy');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');
const ENV_EXAMPLE = join(DEPLOY, '.env.example');
const DOCKER_COMPOSE = '/usr/bin/docker-compose';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: unknown };
  container_name?: string;
  ports?: unknown[];
  volumes?: string[];
  profiles?: string[];
  restart?: string;
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

let tmp = '';
let emptyEnvFile = '';

/** docker-compose with a clean environment (no stray LOG_LEVEL etc. from the caller's shell leaks into interpolation). */
function compose(file: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(DOCKER_COMPOSE)) {
    throw new Error(
      `${DOCKER_COMPOSE} not found: these tests validate deploy/docker-compose.yml offline with docker-compose 1.29.2; ` +
        ".ci/run installs Debian's docker-compose package (apt-get install docker-compose)",
    );
  }
  const r = spawnSync(DOCKER_COMPOSE, ['-f', file, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function interpolated(envFile: string): ComposeFile {
  const r = compose(COMPOSE_FILE, ['--env-file', envFile, '--profile', 'load', 'config']);
  expect(r.status, r.stderr).toBe(0);
  return parse(r.stdout) as ComposeFile;
}

function service(c: ComposeFile, name: string): ComposeService {
  const s = c.services[name];
  if (!s) throw new Error(`no service '${name}' in deploy/docker-compose.yml`);
  return s;
}

/** Environment of a service as the container sees it: every value a string. */
function stringEnv(s: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `host:container[:mode]` volume strings (docker-compose 1.29.2 prints bind sources as absolute paths). */
function mounts(s: ComposeService): { source: string; target: string; mode: string }[] {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = '', mode = 'rw'] = v.split(':');
    return { source, target, mode };
  });
}

/** Compose duration ('45s', '1m30s', '500ms') in milliseconds. */
function durationMs(d: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration '${d}'`).toBe(d);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** The URL a `node -e "fetch('...')"` healthcheck probes. */
function healthcheckUrl(s: ComposeService): URL {
  const test = (s.healthcheck?.test ?? []).join(' ');
  const m = /fetch\('([^']+)'\)/.exec(test);
  expect(m, `healthcheck ${test}`).not.toBeNull();
  return new URL(m![1]!);
}

let withExample: ComposeFile;
let withoutEnv: ComposeFile;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'migsim-compose-'));
  emptyEnvFile = join(tmp, 'empty.env');
  writeFileSync(emptyEnvFile, '');
  withExample = interpolated(ENV_EXAMPLE);
  withoutEnv = interpolated(emptyEnvFile);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('deploy/docker-compose.yml validates with docker-compose 1.29.2', () => {
  it('passes `config -q` with .env.example, with the load profile, and with no .env at all', () => {
    for (const args of [
      ['--env-file', ENV_EXAMPLE, 'config', '-q'],
      ['--env-file', ENV_EXAMPLE, '--profile', 'load', 'config', '-q'],
      ['--env-file', emptyEnvFile, 'config', '-q'],
    ]) {
      const r = compose(COMPOSE_FILE, args);
      expect(r.status, `docker-compose ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('rejects a broken copy (misspelt depends_on condition, non-integer replicas)', () => {
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    const broken = [
      { name: 'condition.yml', text: raw.replace('condition: service_healthy', 'condition: service_healty'), error: 'service_healty' },
      { name: 'replicas.yml', text: raw.replace(/replicas: .*/, 'replicas: two'), error: 'replicas' },
    ];
    for (const b of broken) {
      expect(b.text, `${b.name}: the edit must change the file`).not.toBe(raw);
      const file = join(tmp, b.name);
      writeFileSync(file, b.text);
      const r = compose(file, ['--env-file', ENV_EXAMPLE, 'config', '-q']);
      expect(r.status, b.name).not.toBe(0);
      expect(r.stderr).toContain(b.error);
    }
  });

  it('has a default for every variable, and .env.example lists exactly those defaults', () => {
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    const refs = [...raw.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)];
    expect(refs.length).toBeGreaterThan(10);
    const example = new Map(Object.entries(parseEnvFile(readFileSync(ENV_EXAMPLE, 'utf8'))));
    for (const [ref, name, rest] of refs) {
      expect(rest, `${ref} needs a :- default so the file validates without a .env`).toMatch(/^:-./);
      expect(example.has(name!), `${name} is used in docker-compose.yml but missing from .env.example`).toBe(true);
    }
    const used = new Set(refs.map((r) => r[1]));
    for (const name of example.keys()) expect(used.has(name), `${name} in .env.example is not used`).toBe(true);
    // .env.example documents the defaults: interpolating with it or with nothing gives the same file.
    expect(withExample).toEqual(withoutEnv);
  });
});

describe('migsim services', () => {
  const cases = [
    { name: 'coordinator', schema: coordinatorEnvSchema, probe: '/healthz' },
    { name: 'worker', schema: workerEnvSchema, probe: '/readyz' },
    { name: 'loadgen', schema: loadgenEnvSchema, probe: '/healthz' },
  ] as const;

  for (const c of cases) {
    it(`${c.name}: environment is a valid ${c.name} configuration`, () => {
      const s = service(withExample, c.name);
      const env = stringEnv(s);
      const keys = Object.keys(c.schema.shape);
      for (const k of Object.keys(env)) expect(keys, `${c.name} env ${k} is not a key of its config schema`).toContain(k);
      const r = c.schema.safeParse(env);
      expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
      expect(env.METRICS_PORT).toBe(String(METRICS_PORT));
      expect(env.METRICS_HOST).toBe('0.0.0.0');
      // Same password as the Redis server, Redis by its service name.
      const url = new URL(env.REDIS_URL!);
      expect(url.hostname).toBe('redis');
      const redisArgs = service(withExample, 'redis').command ?? [];
      expect(decodeURIComponent(url.password)).toBe(redisArgs[redisArgs.indexOf('--requirepass') + 1]);
    });

    it(`${c.name}: runs its bin from the one migsim image, probes ${c.probe} on the metrics port`, () => {
      const s = service(withExample, c.name);
      expect(s.command?.[0]).toBe('node');
      const script = s.command?.[1] ?? '';
      expect(script).toMatch(new RegExp(`^services/${c.name}/bin/${c.name}\\.mjs$`));
      expect(existsSync(join(ROOT, script)), `${script} does not exist`).toBe(true);
      expect(s.image).toBe(service(withExample, 'coordinator').image);
      expect(s.build?.context).toBe(ROOT);
      expect(existsSync(join(s.build!.context, s.build!.dockerfile))).toBe(true);
      const url = healthcheckUrl(s);
      expect(Number(url.port)).toBe(METRICS_PORT);
      expect(url.pathname).toBe(c.probe);
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
    });
  }

  it('worker: scalable (no container_name, no host ports), restarts, and outlives its shutdown timeout', () => {
    const w = service(withExample, 'worker');
    expect(w.container_name).toBeUndefined();
    expect(w.ports ?? []).toEqual([]);
    expect(Number.isInteger(w.deploy?.replicas)).toBe(true);
    expect(w.deploy?.replicas as number).toBeGreaterThanOrEqual(1);
    expect(w.restart).toBe('unless-stopped');
    const shutdownMs = Number(stringEnv(w).SHUTDOWN_TIMEOUT_MS ?? workerEnvSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined));
    expect(durationMs(w.stop_grace_period ?? '10s')).toBeGreaterThan(shutdownMs);
  });

  it('loadgen is behind the load profile and starts after the workers; outputs go to the /data volume', () => {
    const l = service(withExample, 'loadgen');
    expect(l.profiles).toEqual(['load']);
    expect(l.depends_on?.worker?.condition).toBe('service_started');
    for (const name of ['coordinator', 'loadgen']) {
      const s = service(withExample, name);
      expect(stringEnv(s).OUT_DIR).toMatch(/^\/data\//);
      expect(mounts(s).some((m) => m.target === '/data' && m.mode === 'rw' && m.source in (withExample.volumes ?? {}))).toBe(true);
    }
  });
});

describe('redis, prometheus, grafana', () => {
  it('redis keeps every key: AOF on, noeviction, password-protected, healthcheck authenticates', () => {
    const r = service(withExample, 'redis');
    const args = (r.command ?? []).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(args).toMatch(/--maxmemory \d+[kmg]b/);
    const password = r.command?.[(r.command.indexOf('--requirepass')) + 1];
    expect(password).toBeTruthy();
    expect(stringEnv(r).REDIS_PASSWORD).toBe(password);
    const test = (r.healthcheck?.test ?? []).join(' ');
    // `$$` in compose reaches the container as `$`: the shell expands the container's variable.
    expect(test).toContain('redis-cli -a "$$REDIS_PASSWORD"');
    expect(test).toContain('ping');
    expect(mounts(r).some((m) => m.target === '/data' && m.source in (withExample.volumes ?? {}))).toBe(true);
  });

  it('prometheus mounts the generated prometheus.yml, which scrapes every worker replica through compose DNS', () => {
    const file = join(DEPLOY, 'prometheus', 'prometheus.yml');
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(prometheusYaml({ kind: 'compose' }));
    const p = service(withExample, 'prometheus');
    expect(mounts(p)).toContainEqual({ source: file, target: '/etc/prometheus/prometheus.yml', mode: 'ro' });
    const config = parse(text) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; type?: string; port: number }[] }[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);
    expect(job('migsim-worker')?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['worker'], type: 'A', port: METRICS_PORT })]);
    expect(job('migsim-loadgen')?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['loadgen'], port: METRICS_PORT })]);
    expect(job('migsim-coordinator')?.static_configs?.[0]?.targets).toEqual([`coordinator:${METRICS_PORT}`]);
    for (const name of ['coordinator', 'worker', 'loadgen']) expect(withExample.services).toHaveProperty(name);
    expect(healthUrlOf(p)).toBe('http://127.0.0.1:9090/-/ready');
  });

  it('grafana provisions the Prometheus datasource and mounts the generated dashboards read-only', () => {
    const g = service(withExample, 'grafana');
    const m = mounts(g);
    const provisioning = join(DEPLOY, 'grafana', 'provisioning');
    expect(m).toContainEqual({ source: provisioning, target: '/etc/grafana/provisioning', mode: 'ro' });
    expect(m).toContainEqual({ source: join(ROOT, 'dashboards', 'generated'), target: '/var/lib/grafana/dashboards', mode: 'ro' });
    expect(g.depends_on?.prometheus?.condition).toBe('service_healthy');

    const ds = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as {
      apiVersion: number;
      datasources: { type: string; uid: string; url: string; isDefault?: boolean }[];
    };
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    expect(service(withExample, 'prometheus').ports).toContainEqual(expect.objectContaining({ target: 9090 }));

    const providers = (parse(readFileSync(join(provisioning, 'dashboards', 'migsim.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    }).providers;
    expect(providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) })]);

    // The dashboards query through their `datasource` variable (type prometheus) or the provisioned uid.
    const generated = join(ROOT, 'dashboards', 'generated');
    const files = readdirSync(generated).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['migsim-overview.json', 'migsim-zap-vs-promote.json']));
    for (const f of files) {
      const text = readFileSync(join(generated, f), 'utf8');
      const uids = new Set([...text.matchAll(/"datasource":\s*\{\s*"type":\s*"prometheus",\s*"uid":\s*"([^"]+)"/g)].map((x) => x[1]));
      expect(uids.size, f).toBeGreaterThan(0);
      for (const uid of uids) expect(['${datasource}', 'prometheus'], `${f} uses datasource uid ${uid}`).toContain(uid);
      const board = JSON.parse(text) as { templating: { list: { type: string; name: string; query?: string }[] } };
      expect(board.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }));
    }
    const home = stringEnv(g).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(existsSync(join(generated, home.replace('/var/lib/grafana/dashboards/', ''))), home).toBe(true);
  });
});

function healthUrlOf(s: ComposeService): string | undefined {
  return (s.healthcheck?.test ?? []).find((x) => x.startsWith('http://'));
}

describe('every service', () => {
  it('uses an image pinned to an exact version and valid depends_on conditions', () => {
    const conditions = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const [name, s] of Object.entries(withExample.services)) {
      expect(s.image, name).toMatch(/^[a-z0-9][a-z0-9._/-]*:v?\d+\.\d+\.\d+(-[a-z0-9.]+)?$/);
      expect(s.image).not.toMatch(/:latest$/);
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
        expect(conditions, `${name} depends_on ${dep}`).toContain(d.condition);
        const target = service(withExample, dep);
        // A service that always runs must not wait for one behind a profile.
        if (target.profiles) expect(s.profiles ?? [], `${name} depends on profiled ${dep}`).toEqual(expect.arrayContaining(target.profiles));
        if (d.condition === 'service_healthy') expect(target.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
      }
    }
  });
});

describe('deploy/Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('builds in ≥2 stages from one pinned node 20 base, installs production dependencies only, runs as non-root', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    expect(new Set(froms).size).toBe(1);
    expect(dockerfile).toMatch(/npm ci [^\n]*--omit=dev/);
    const users = instructions.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    expect(instructions).toContain('WORKDIR /app');
    expect(instructions).toContain('ENV NODE_ENV=production');
    const cmd = instructions.filter((l) => /^CMD\s/i.test(l)).at(-1) ?? '';
    const argv = JSON.parse(cmd.replace(/^CMD\s+/i, '')) as string[];
    expect(argv).toEqual(['node', 'services/worker/bin/worker.mjs']);
    expect(existsSync(join(ROOT, argv[1]!))).toBe(true);
    // tsx loads the TypeScript at run time, so it must be a production dependency.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toHaveProperty('tsx');
  });

  it('copies the runtime sources but no tests or dashboards, and .dockerignore keeps the context small', () => {
    const copies = instructions.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l)).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copies).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'shared/', 'services/', 'scenarios/']));
    for (const src of copies) expect(existsSync(join(ROOT, src)), src).toBe(true);
    expect(copies.some((c) => /^(test|dashboards)\b/.test(c))).toBe(false);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', 'out', 'test']));
    for (const src of copies) expect(ignored, `.dockerignore excludes ${src}`).not.toContain(src.replace(/\/$/, ''));
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../shared/src/cli/program.js';

/** README.md and every page of docs/, as the user reads them. */
const DOCS = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

/** Splits a shell command line into words (quotes kept together, a trailing comment dropped). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(#.*$)|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[3] !== undefined) break;
    out.push(m[1] ?? m[2] ?? m[4]!);
  }
  return out;
}

/** The shell lines of fenced code blocks (`sh`/`bash`/`console` or none), continuation lines joined. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  let pending = '';
  for (const raw of markdown.split('\n')) {
    const m = /^```(\w*)/.exec(raw);
    if (m) {
      fence = fence === null ? m[1]! : null;
      continue;
    }
    if (fence === null || !['', 'sh', 'bash', 'console', 'shell'].includes(fence)) continue;
    const line = raw.replace(/^\$ /, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  return lines.map((l) => l.trim()).filter((l) => l.length > 0);
}

/** migsim invocations written in the docs (after `npx`, `&&` or `;` too), as their argument words. */
function migsimCommands(): { doc: string; line: string; argv: string[] }[] {
  const out: { doc: string; line: string; argv: string[] }[] = [];
  for (const doc of DOCS) {
    for (const line of shellLines(readFileSync(doc, 'utf8'))) {
      // `&&`, `;`, `|` and a trailing `&` (run in the background) separate commands.
      for (const part of line.split(/&&|;|\||&/)) {
        const w = words(part.trim());
        const at = w[0] === 'npx' && w[1] === 'migsim' ? 2 : w[0] === 'migsim' ? 1 : -1;
        if (at > 0) out.push({ doc, line, argv: w.slice(at) });
      }
    }
  }
  return out;
}

/** A synopsis line (`[SCENARIO] [--out DIR]`, `<file>`, `A B`) names the command's form rather than a command to run. */
const isSynopsis = (argv: readonly string[]): boolean => argv.some((a) => /^[[<]|\.\.\.|^[A-Z][A-Z_]*$|^[A-Z]$/.test(a));

function subcommand(program: Command, name: string | undefined): Command | undefined {
  return program.commands.find((c) => c.name() === name);
}

describe('every migsim command in README.md and docs/ parses', () => {
  const commands = migsimCommands();

  it('finds the commands (the docs were read)', () => {
    expect(commands.length).toBeGreaterThan(10);
    expect(new Set(commands.map((c) => c.argv[0]))).toContain('run');
  });

  it('each subcommand named has a --help that exits 0', () => {
    const names = [...new Set(commands.map((c) => c.argv[0]).filter((a): a is string => a !== undefined && !a.startsWith('-')))];
    for (const name of names) {
      const program = buildProgram(() => {});
      program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
      for (const c of program.commands) c.configureOutput({ writeOut: () => {}, writeErr: () => {} });
      expect(subcommand(program, name), `migsim ${name} (named in the docs) exists`).toBeDefined();
      let code: number | undefined;
      try {
        program.parse([name, '--help'], { from: 'user' });
      } catch (e) {
        code = (e as CommanderError).exitCode;
      }
      expect(code, `migsim ${name} --help`).toBe(0);
    }
  });

  it('each concrete command line parses with its flags and arguments; each synopsis names real flags', () => {
    for (const { doc, line, argv } of commands) {
      const program = buildProgram(() => {});
      program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
      for (const c of program.commands) c.configureOutput({ writeOut: () => {}, writeErr: () => {} }).action(() => {});
      const cmd = subcommand(program, argv[0]);
      if (argv[0] === '--help' || argv[0] === '--version' || argv.length === 0) continue;
      expect(cmd, `${doc}: ${line}: unknown subcommand`).toBeDefined();
      if (isSynopsis(argv)) {
        const known = new Set(cmd!.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)));
        for (const flag of argv.filter((a) => /^--?[a-z]/.test(a))) expect(known.has(flag.split('=')[0]!), `${doc}: ${line}: ${flag}`).toBe(true);
        continue;
      }
      let error: unknown;
      try {
        program.parse(argv, { from: 'user' });
      } catch (e) {
        error = e;
      }
      const helped = error instanceof CommanderError && error.exitCode === 0;
      expect(error === undefined || helped, `${doc}: ${line}: ${(error as Error | undefined)?.message}`).toBe(true);
    }
  });

  it('each npm script the docs run exists', () => {
    for (const doc of DOCS) {
      for (const line of shellLines(readFileSync(doc, 'utf8'))) {
        for (const m of line.matchAll(/npm run (-s )?([\w:-]+)/g)) expect(PACKAGE.scripts[m[2]!], `${doc}: npm run ${m[2]}`).toBeDefined();
      }
    }
  });
});

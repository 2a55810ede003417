// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The house's tiers, bottom to top (see docs/architecture.md): each may import the ones below it, never the ones
 * above. `common` sits under every tier; `cli` and `services/` are the entry points on top.
 */
const TIERS = [
  ['shared/src/common', 'common helpers (units, bitmaps, logging)'],
  ['shared/src/engine', 'the discrete-event engine'],
  ['shared/src/kernel', 'the KVM model'],
  ['shared/src/migration', 'one live migration'],
  ['shared/src/cluster', 'the cluster'],
  ['shared/src/cli', 'the migsim command'],
];

/** Import patterns of a tier's files that point at a tier above it (written as they appear in relative imports). */
const above = (i) => TIERS.slice(i + 1).flatMap(([dir]) => [`**/${dir.replace('shared/src/', '')}/**`]);

const restrict = (files, patterns) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: patterns.map(({ group, message }) => ({ group, message })) }],
  },
});

/** Within the kernel model: mmu < host < mmu-aggregate < selftest < calibration. */
const KERNEL = ['mmu', 'host', 'mmu-aggregate', 'selftest', 'calibration'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'coverage/**', 'dashboards/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  // Every tier: nothing from the tiers above it, nothing from services/ (entry points import shared/, never the
  // reverse). Queues and metrics belong to the cluster tier.
  ...TIERS.map(([dir, what], i) =>
    restrict(
      [`${dir}/**/*.ts`],
      [
        { group: [...above(i), '**/services/**'], message: `${dir} is ${what}: it must not import a tier above it (${TIERS.slice(i + 1).map(([d]) => d.replace('shared/src/', '')).join(', ')}) or services/.` },
        ...(i < 4 ? [{ group: ['bullmq', 'ioredis', 'prom-client', 'commander'], message: `${dir} is ${what}: queues, metrics and the command line belong to the cluster tier and the CLI.` }] : []),
      ],
    ),
  ),
  // Inside the kernel model, each part may use only the parts before it.
  ...KERNEL.map((part, i) =>
    restrict(
      [`shared/src/kernel/${part}/**/*.ts`],
      [
        { group: [...above(2), '**/services/**'], message: `shared/src/kernel is the KVM model: it must not import migration, cluster, cli or services/.` },
        { group: ['bullmq', 'ioredis', 'prom-client', 'commander'], message: 'shared/src/kernel is the KVM model: no queues, metrics or command line.' },
        ...(i < KERNEL.length - 1
          ? [{ group: KERNEL.slice(i + 1).map((p) => `**/${p}/**`).concat(KERNEL.slice(i + 1).map((p) => `../${p}/*`)), message: `kernel/${part} comes before ${KERNEL.slice(i + 1).join(', ')}: it must not import them.` }]
          : []),
      ],
    ),
  ),
);

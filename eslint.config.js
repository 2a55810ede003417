// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layering: the engine knows nothing of the model; the model knows nothing of queues or services. */
const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message: why })) }],
  },
});

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
  layer(['shared/src/sim/**/*.ts'], ['**/mmu/**', '**/selftest/**', '**/cli/**', '**/services/**', 'bullmq'],
    'shared/src/sim is the engine: it must not import the model, the CLI or the services.'),
  layer(['shared/src/mmu/**/*.ts'], ['**/selftest/**', '**/cli/**', '**/services/**', 'bullmq', 'prom-client'],
    'shared/src/mmu is the KVM model: it must not import workloads, the CLI, queues or metrics.'),
  layer(['shared/src/selftest/**/*.ts'], ['**/cli/**', '**/services/**', 'bullmq', 'prom-client'],
    'shared/src/selftest is model-side: it must not import the CLI, queues or metrics.'),
);

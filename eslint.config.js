// Lint: typescript-eslint's recommended rules, the project's layering (scripts/eslint/layering.js) and file headers.
import tseslint from 'typescript-eslint';
import fileHeader from './scripts/eslint/file-header.js';
import layering from './scripts/eslint/layering.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'cdk.out/**', '**/.deploy-model/**', 'test/_fixtures/**', 'scratch/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'deploy-model': layering },
    rules: {
      'deploy-model/no-private-import': 'error',
      'deploy-model/no-cross-target-import': 'error',
      'deploy-model/layers': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      // Protocol and SDK boundaries carry untyped JSON; `any` stays rare and local, not banned.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Library code never prints or exits: the CLI owns the console (DESIGN.md section 2).
    files: ['src/**/*.ts'],
    // The CLI, and the entry points of the processes deploy-model starts (daemons, the Lambda bootstrap).
    ignores: ['src/cli/**', 'src/**/_daemon.ts', 'src/**/_*-daemon.ts', 'src/**/_bootstrap.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/cli exits; throw a DeployModelError' }],
    },
  },
  {
    // Each source file opens with one line on what it is for (scripts/eslint/file-header.js).
    files: ['src/**/*.{ts,js,mjs}', 'infra/**/*.{ts,js,mjs}', 'handlers/**/*.{ts,js,mjs}', 'bench/**/*.{ts,js,mjs}'],
    plugins: { 'deploy-model-files': fileHeader },
    rules: { 'deploy-model-files/file-header': 'error' },
  },
  {
    // Tests read private modules of the folder they test.
    files: ['test/**/*.ts'],
    rules: { 'deploy-model/no-private-import': 'off' },
  },
);

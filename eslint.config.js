// npm run lint: typescript-eslint's recommended rules everywhere, and in src/ and bench/ the typed rules where a
// mistake is silent at run time (a promise nobody awaits, a promise where a callback's return is ignored).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_GLOBALS = Object.fromEntries(
  [
    'console',
    'process',
    'URL',
    'performance',
    'setTimeout',
    'clearTimeout',
    'module',
    'require',
    '__dirname',
    'Buffer',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      'node_modules/**',
      'coverage/**',
      '.tmp-*/**',
      '.cache/**',
      '.tap/**',
      'src/ignition/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // The repository's convention for a value left out on purpose: a leading underscore.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Control characters are what the sanitizers (oneLine, label values, YAML) look for.
      'no-control-regex': 'off',
      // Errors re-thrown with a message for people; turned on once the API module (issue 26 item 1) is merged.
      'preserve-caught-error': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], languageOptions: { globals: NODE_GLOBALS } },
  // Tests read parsed YAML and JSON documents whose shape they assert: `any` there is the point.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
);

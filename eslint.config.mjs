// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.local/**',
      'coverage/**',
      'scratch/**',
      'infra/**',
      'eslint.config.mjs',
      'jest.config.js',
      '.dependency-cruiser.cjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through AppConfig (src/config).' },
      ],
    },
  },
  {
    // Small files and functions in the service itself; tests may hold long describe blocks.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // One query path (docs/architecture.md, the query path): outside src/database, statements and
    // transactions go through Transactions, which joins the surrounding transaction.
    files: ['src/**/*.ts'],
    ignores: ['src/database/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='typeorm'] ImportSpecifier[imported.name='DataSource']",
          message: 'Only src/database uses the DataSource: inject Transactions.',
        },
        {
          selector:
            "MemberExpression[property.name=/^(query|transaction|manager|getRepository|createQueryRunner)$/]:matches([object.name='dataSource'], [object.property.name='dataSource'])",
          message: 'Run statements with Transactions.query / Transactions.execute and transactions with Transactions.run.',
        },
        {
          selector: "MemberExpression[property.name='query'][object.type='MemberExpression'][object.property.name='manager']",
          message: 'A statement is Transactions.query (rows) or Transactions.execute (rows and affected-row count).',
        },
        {
          selector: "MemberExpression[property.name='createQueryRunner']",
          message: 'A connection of its own is Transactions.onOwnConnection.',
        },
      ],
    },
  },
  {
    // Tools (npm run dev, the bench, CI scripts) share the local stack and the factories with the
    // tests through tools/local-stack; they never reach into test/, which is the tests' own.
    files: ['scripts/**', 'bench/**', 'tools/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)test/', message: 'Import the local stack from tools/local-stack, not from test/.' }] },
      ],
    },
  },
  {
    files: ['src/config/**', 'test/**', 'scripts/**', 'bench/**', 'tools/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);

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
    // One query path (docs/architecture.md, the query path): outside src/database, a statement is
    // declared once (statement<Row, Params>(sql)) and run with Transactions.rows / .execute, which
    // join the surrounding transaction; several writes commit together in Transactions.run. No
    // TypeORM connection object (DataSource, EntityManager, QueryRunner, Repository) is handed out.
    files: ['src/**/*.ts'],
    ignores: ['src/database/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='typeorm'] ImportSpecifier[imported.name=/^(DataSource|EntityManager|QueryRunner|Repository)$/]",
          message:
            "Only src/database holds TypeORM's DataSource, EntityManager, QueryRunner or Repository: inject Transactions and run a declared statement with transactions.rows / transactions.execute.",
        },
        {
          selector:
            "ImportDeclaration[source.value='@nestjs/typeorm'] ImportSpecifier[imported.name=/^Inject(Repository|DataSource|EntityManager)$/]",
          message: 'Inject Transactions (src/database/transactions.ts), not a TypeORM repository, data source or manager.',
        },
        {
          selector: "CallExpression > MemberExpression.callee[property.name='query']",
          message:
            'Declare the statement once (statement<Row, Params>(sql), src/database/statement.ts) and run it with this.transactions.rows(STATEMENT, [params]) (rows) or this.transactions.execute(STATEMENT, [params]) ({ rows, rowCount }).',
        },
        {
          selector: 'CallExpression > MemberExpression.callee[property.name=/^(getRepository|createQueryBuilder)$/]',
          message:
            'No ORM queries outside src/database: declare the SQL (statement<Row, Params>(sql)), run it with this.transactions.rows(STATEMENT, [params]) and map the row (toUserMapping for a user_mapping row).',
        },
        {
          selector:
            "MemberExpression[property.name=/^(transaction|manager)$/]:matches([object.name='dataSource'], [object.property.name='dataSource'])",
          message: 'A transaction is this.transactions.run(async () => ...): the statements inside join it.',
        },
        {
          selector: "MemberExpression[property.name='createQueryRunner']",
          message: 'A connection of its own (a session lock, a temporary table) is this.transactions.onOwnConnection(async () => ...).',
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

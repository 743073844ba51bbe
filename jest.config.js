/** Tests are TypeScript compiled by SWC (with decorator metadata, as tsc emits it). */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2023',
      },
      module: { type: 'commonjs' },
    },
  ],
};

// infra/ is its own package (the CDK app, with its own jest); its synth output (cdk.out) holds a
// copy of this package.json, which would collide with this package in Jest's module map.
const modulePathIgnorePatterns = ['<rootDir>/infra/'];

module.exports = {
  // A global option: Jest ignores it inside a project.
  testTimeout: 30_000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      modulePathIgnorePatterns,
    },
    {
      // Services wired by Nest against a copy of the template database and cognito-local: the
      // account rules tested below HTTP.
      displayName: 'service',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/services/**/*.spec.ts'],
      modulePathIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      modulePathIgnorePatterns,
      slowTestThreshold: 30,
    },
  ],
};

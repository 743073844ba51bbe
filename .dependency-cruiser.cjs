// @ts-check
/**
 * The layering of `src`, checked by `npm run lint` (dependency-cruiser). A module may import its
 * own layer and the layers below it, never a layer above: a change in a feature can then never
 * break the building blocks it stands on, and the building blocks read without the features.
 *
 *   config -> foundation -> cognito -> identity -> users -> auth -> request services -> features -> app
 *
 * - foundation: src/common, src/telemetry and the database plumbing every feature uses
 *   (transactions, raw pool queries, the Nest module that provides them).
 * - identity: who the caller is (AuthUser, the user_mapping entity that names a Cognito user
 *   locally, @CurrentUser, @Public, @Roles), so users, posts, admin and uploads need nothing from auth.
 * - request services: cross-cutting request handling the features opt into (Idempotency-Key).
 * - features: posts, admin, uploads, health. They do not import each other, except where one
 *   feature is built on another (FEATURE_USES below).
 * - app: the composition roots. src/*.ts (AppModule, createApp, main), src/jobs (the reconcile
 *   job is its own Nest application) and the entity registry with the options built from it
 *   (src/database/entities.ts, database-options.ts, data-source.ts, migrate.ts): TypeORM needs
 *   every entity listed in one place, and that list necessarily knows every feature, so it lives
 *   with the roots rather than in the foundation that features import.
 */

/** Lowest first. A path matches the first layer whose pattern it matches. */
const LAYERS = [
  { name: 'config', path: '^src/config/' },
  {
    name: 'foundation',
    path: '^src/(common|telemetry)/|^src/database/',
    pathNot: '^src/database/(entities|database-options|data-source|migrate)\\.ts$',
  },
  { name: 'cognito', path: '^src/cognito/' },
  { name: 'identity', path: '^src/identity/' },
  { name: 'users', path: '^src/users/' },
  { name: 'auth', path: '^src/auth/' },
  { name: 'request services', path: '^src/idempotency/' },
  { name: 'features', path: '^src/(posts|admin|uploads|health)/' },
  {
    name: 'app',
    path: '^src/[^/]+\\.ts$|^src/jobs/|^src/database/(entities|database-options|data-source|migrate)\\.ts$',
  },
];

const FEATURES = ['posts', 'admin', 'uploads', 'health'];
/** The features built on another one: a post's images are the author's uploads. */
const FEATURE_USES = { posts: ['uploads'], admin: [], uploads: [], health: [] };

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const upward = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `no-upward-import-from-${layer.name.replace(/ /g, '-')}`,
  comment: `${layer.name} may import only ${LAYERS.slice(0, index + 1)
    .map((l) => l.name)
    .join(', ')} (see the layering at the top of .dependency-cruiser.cjs)`,
  severity: 'error',
  from: layer.pathNot ? { path: layer.path, pathNot: layer.pathNot } : { path: layer.path },
  to: {
    path: LAYERS.slice(index + 1)
      .map((l) => l.path)
      .join('|'),
  },
}));

const otherFeatures = (feature) =>
  `^src/(${FEATURES.filter((other) => other !== feature && !FEATURE_USES[feature].includes(other)).join('|')})/`;

/**
 * Entities are the exception: an entity names the tables its foreign keys point at (an upload
 * belongs to a post, a post to a user), which is the schema's shape, not a code dependency. So an
 * entity may reference another feature's entity, and nothing else of it.
 *
 * @type {import('dependency-cruiser').IForbiddenRuleType[]}
 */
const sideways = FEATURES.map((feature) => ({
  name: `${feature}-imports-no-other-feature`,
  comment: `${feature} may use another feature only if it is built on it (FEATURE_USES in .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: `^src/${feature}/`, pathNot: `^src/${feature}/entities/` },
  to: { path: otherFeatures(feature) },
}));

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const entitySideways = FEATURES.map((feature) => ({
  name: `${feature}-entities-import-only-entities`,
  comment: `an entity of ${feature} may reference another feature's entities only`,
  severity: 'error',
  from: { path: `^src/${feature}/entities/` },
  to: { path: otherFeatures(feature), pathNot: '/entities/' },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    ...sideways,
    ...entitySideways,
    {
      name: 'no-circular',
      comment: 'A cycle between modules makes their load order, and so their behaviour, depend on who imports first',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};

import { readFileSync } from 'node:fs';

/**
 * Typed, validated configuration. The only place that reads `process.env`.
 * Every other module injects `AppConfig`.
 */
export interface DatabaseConfig {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
  ssl: false | { ca?: string; rejectUnauthorized: true };
  poolMax: number;
}

export interface CognitoConfig {
  region: string;
  userPoolId: string;
  clientId: string;
  clientSecret?: string;
  endpoint?: string;
  issuer: string;
  jwksUri: string;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export class AppConfig {
  readonly nodeEnv: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  readonly cognito: CognitoConfig;
  readonly corsOrigins: string[];
  readonly trustProxy: boolean;
  readonly rateLimitAuthPerMinute: number;
  readonly redisUrl?: string;
  readonly swaggerEnabled: boolean;
  readonly logLevel: LogLevel;

  constructor(values: Omit<AppConfig, never>) {
    Object.assign(this, values);
  }
}

/** A configuration problem: its message is the one line printed before exit 1. */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(env: Env, name: string): string {
  const value = present(env, name);
  if (value === undefined) {
    throw new ConfigError(`${name} is required`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name);
  if (raw === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = present(env, name);
  if (raw === undefined) {
    return fallback;
  }
  if (raw === 'true' || raw === '1') {
    return true;
  }
  if (raw === 'false' || raw === '0') {
    return false;
  }
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = present(env, name);
  if (raw === undefined) {
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}`);
  }
  return raw;
}

/** The database part alone: what the migration runner needs. */
export function loadDatabaseConfig(env: Env): DatabaseConfig {
  const ssl = boolean(env, 'DB_SSL', false);
  const caPath = present(env, 'DB_SSL_CA');
  let ca: string | undefined;
  if (ssl && caPath !== undefined) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch {
      throw new ConfigError(`DB_SSL_CA cannot be read: ${caPath}`);
    }
  }
  const common = {
    ssl: ssl ? ({ ca, rejectUnauthorized: true } as const) : (false as const),
    poolMax: integer(env, 'DB_POOL_MAX', 10, 1, 1000),
  };

  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  if (databaseUrl !== undefined) {
    const parsed = new URL(databaseUrl);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (parsed.hostname === '' || database === '') {
      throw new ConfigError('DATABASE_URL must name a host and a database');
    }
    return {
      host: parsed.hostname,
      port: parsed.port === '' ? 5432 : Number(parsed.port),
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database,
      ...common,
    };
  }
  if (present(env, 'DB_HOST') === undefined) {
    throw new ConfigError('DATABASE_URL or DB_HOST/DB_PORT/DB_USERNAME/DB_PASSWORD/DB_NAME is required');
  }
  return {
    host: required(env, 'DB_HOST'),
    port: integer(env, 'DB_PORT', 5432, 1, 65535),
    username: required(env, 'DB_USERNAME'),
    password: present(env, 'DB_PASSWORD') ?? '',
    database: required(env, 'DB_NAME'),
    ...common,
  };
}

function cognitoConfig(env: Env): CognitoConfig {
  const region = required(env, 'COGNITO_REGION');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region) && region !== 'local') {
    throw new ConfigError(`COGNITO_REGION must look like ap-northeast-2 (got "${region}")`);
  }
  const userPoolId = required(env, 'COGNITO_USER_POOL_ID');
  if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId)) {
    throw new ConfigError(`COGNITO_USER_POOL_ID must look like ${region}_AbC123 (got "${userPoolId}")`);
  }
  const clientId = required(env, 'COGNITO_CLIENT_ID');
  if (!/^[\w+]+$/.test(clientId)) {
    throw new ConfigError('COGNITO_CLIENT_ID must be an app client id');
  }
  const issuer = url(env, 'COGNITO_ISSUER', ['https:', 'http:']) ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return {
    region,
    userPoolId,
    clientId,
    clientSecret: present(env, 'COGNITO_CLIENT_SECRET'),
    endpoint: url(env, 'COGNITO_ENDPOINT', ['https:', 'http:']),
    issuer,
    jwksUri: url(env, 'COGNITO_JWKS_URI', ['https:', 'http:']) ?? `${issuer}/.well-known/jwks.json`,
  };
}

/** Reads and validates the environment. Throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env): AppConfig {
  const nodeEnv = present(env, 'NODE_ENV') ?? 'development';
  const logLevel = (present(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const corsOrigins = (present(env, 'CORS_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS must list origins like https://app.example.com (got "${origin}")`);
    }
  }
  return new AppConfig({
    nodeEnv,
    port: integer(env, 'PORT', 3000, 1, 65535),
    database: loadDatabaseConfig(env),
    cognito: cognitoConfig(env),
    corsOrigins,
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    rateLimitAuthPerMinute: integer(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 100000),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    swaggerEnabled: boolean(env, 'SWAGGER_ENABLED', nodeEnv !== 'production'),
    logLevel: logLevel as LogLevel,
  });
}

/** The process environment, read once. Kept here so nothing else touches `process.env`. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}

export function loadDatabaseConfigFromProcess(): DatabaseConfig {
  return loadDatabaseConfig(process.env);
}

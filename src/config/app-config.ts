import { readFileSync } from 'node:fs';
import { boolean, ConfigError, Env, integer, present, required, url } from './env-readers';

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
  /** The Hosted UI (managed login): absent when the pool has no domain, and the code exchange is off. */
  hostedUi?: HostedUiConfig;
}

export interface HostedUiConfig {
  /** Base URL of the pool's domain, without a trailing slash: `{domain}/oauth2/token` is the token endpoint. */
  domain: string;
  /** The redirect URIs the code exchange accepts (the app client's callback URLs), exactly as registered. */
  redirectUris: string[];
}

/** Presigned uploads (S3). Absent when `S3_BUCKET` is unset: the upload routes do not exist. */
export interface S3Config {
  bucket: string;
  region: string;
  /** An emulator (s3rver): addressed path-style. */
  endpoint?: string;
  uploadMaxBytes: number;
}

/**
 * OpenTelemetry, configured by its own standard env names (the SDK reads them itself); this is
 * only what the app decides from them. Off unless an OTLP endpoint is set.
 */
export interface TelemetryConfig {
  /** An OTLP endpoint is set and OTEL_SDK_DISABLED is not true: the SDK is loaded and started. */
  enabled: boolean;
  serviceName: string;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** `json`: one JSON object a line (production, tests); `pretty`: pino-pretty, for a terminal (npm run dev). */
export type LogFormat = 'json' | 'pretty';

export class AppConfig {
  readonly nodeEnv: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  readonly cognito: CognitoConfig;
  readonly corsOrigins: string[];
  readonly trustProxy: boolean;
  readonly rateLimitAuthPerMinute: number;
  readonly redisUrl?: string;
  readonly s3?: S3Config;
  readonly swaggerEnabled: boolean;
  /** Serve the browser admin console at /admin/. */
  readonly adminConsoleEnabled: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** The issuer an authenticator app shows next to a TOTP entry. */
  readonly totpIssuer: string;
  /** Seconds a sign-in counts as recent for the step-up routes (`auth_time`). */
  readonly reauthMaxAgeSeconds: number;
  readonly telemetry: TelemetryConfig;

  constructor(values: Omit<AppConfig, never>) {
    Object.assign(this, values);
  }
}

export { ConfigError };

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function hostedUiConfig(env: Env): HostedUiConfig | undefined {
  const domain = url(env, 'COGNITO_DOMAIN', ['https:', 'http:']);
  const redirectUris = (present(env, 'OAUTH_REDIRECT_URIS') ?? '')
    .split(',')
    .map((uri) => uri.trim())
    .filter((uri) => uri !== '');
  if (domain === undefined) {
    return undefined;
  }
  if (redirectUris.length === 0) {
    throw new ConfigError('OAUTH_REDIRECT_URIS is required with COGNITO_DOMAIN');
  }
  for (const uri of redirectUris) {
    // Cognito accepts https callback URLs, http only for localhost, and app schemes (myapp://cb).
    if (!URL.canParse(uri) || new URL(uri).hash !== '') {
      throw new ConfigError(`OAUTH_REDIRECT_URIS must list absolute URIs without a fragment (got "${uri}")`);
    }
  }
  return { domain: domain.replace(/\/+$/, ''), redirectUris };
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
    hostedUi: hostedUiConfig(env),
  };
}

/** S3 accepts at most 5 GiB in one POST upload. */
const UPLOAD_MAX_BYTES_LIMIT = 5 * 1024 ** 3;

function s3Config(env: Env, cognitoRegion: string): S3Config | undefined {
  const uploadMaxBytes = integer(env, 'UPLOAD_MAX_BYTES', 10 * 1024 * 1024, 1, UPLOAD_MAX_BYTES_LIMIT);
  const bucket = present(env, 'S3_BUCKET');
  if (bucket === undefined) {
    return undefined;
  }
  // S3's bucket naming rules (3..63 lowercase letters, digits, dots and hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`S3_BUCKET must be an S3 bucket name (got "${bucket}")`);
  }
  const region = present(env, 'S3_REGION') ?? cognitoRegion;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region) && region !== 'local') {
    throw new ConfigError(`S3_REGION must look like ap-northeast-2 (got "${region}")`);
  }
  return { bucket, region, endpoint: url(env, 'S3_ENDPOINT', ['https:', 'http:']), uploadMaxBytes };
}

const OTLP_SIGNALS = ['', 'TRACES_', 'METRICS_'] as const;
/** The OTLP/HTTP exporters this service ships; gRPC is not offered. */
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'];

/**
 * The telemetry part alone: read first, before anything else is loaded, so that the SDK's
 * instrumentations hook in (src/telemetry/preload.ts). The SDK itself reads the same names.
 */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  let endpointSet = false;
  for (const signal of OTLP_SIGNALS) {
    endpointSet = url(env, `OTEL_EXPORTER_OTLP_${signal}ENDPOINT`, ['http:', 'https:']) !== undefined || endpointSet;
    const protocol = present(env, `OTEL_EXPORTER_OTLP_${signal}PROTOCOL`);
    if (protocol !== undefined && !OTLP_PROTOCOLS.includes(protocol)) {
      throw new ConfigError(`OTEL_EXPORTER_OTLP_${signal}PROTOCOL must be one of ${OTLP_PROTOCOLS.join(', ')} (got "${protocol}")`);
    }
  }
  // OpenTelemetry reads booleans case-insensitively; anything but true/false is a typo here.
  const disabled = present(env, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') {
    throw new ConfigError(`OTEL_SDK_DISABLED must be true or false (got "${disabled}")`);
  }
  return { enabled: endpointSet && disabled !== 'true', serviceName: present(env, 'OTEL_SERVICE_NAME') ?? 'api' };
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const value = (present(env, name) ?? fallback).toLowerCase();
  if (!values.includes(value as T)) {
    throw new ConfigError(`${name} must be one of ${values.join(', ')} (got "${value}")`);
  }
  return value as T;
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
  const cognito = cognitoConfig(env);
  return new AppConfig({
    nodeEnv,
    port: integer(env, 'PORT', 3000, 1, 65535),
    database: loadDatabaseConfig(env),
    cognito,
    corsOrigins,
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    rateLimitAuthPerMinute: integer(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 100000),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    s3: s3Config(env, cognito.region),
    swaggerEnabled: boolean(env, 'SWAGGER_ENABLED', nodeEnv !== 'production'),
    adminConsoleEnabled: boolean(env, 'ADMIN_CONSOLE_ENABLED', nodeEnv !== 'production'),
    logLevel: logLevel as LogLevel,
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'], 'json'),
    totpIssuer: present(env, 'TOTP_ISSUER') ?? 'cognito-nest-api',
    reauthMaxAgeSeconds: integer(env, 'REAUTH_MAX_AGE', 300, 60, 3600),
    telemetry: loadTelemetryConfig(env),
  });
}

/** The process environment, read once. Kept here so nothing else touches `process.env`. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}

export function loadTelemetryConfigFromProcess(): TelemetryConfig {
  return loadTelemetryConfig(process.env);
}

export function loadDatabaseConfigFromProcess(): DatabaseConfig {
  return loadDatabaseConfig(process.env);
}

import { ConfigError, loadConfig, loadTelemetryConfig } from './app-config';

const base = {
  DATABASE_URL: 'postgres://user:p%40ss@db.example.com:6543/app',
  COGNITO_REGION: 'ap-northeast-2',
  COGNITO_USER_POOL_ID: 'ap-northeast-2_Abc123',
  COGNITO_CLIENT_ID: 'client123',
};

describe('loadConfig', () => {
  it('reads DATABASE_URL with its parts decoded and applies the defaults', () => {
    const config = loadConfig(base);
    expect(config.database).toMatchObject({
      host: 'db.example.com',
      port: 6543,
      username: 'user',
      password: 'p@ss',
      database: 'app',
      ssl: false,
      poolMax: 10,
    });
    expect(config).toMatchObject({
      port: 3000,
      trustProxy: false,
      rateLimitAuthPerMinute: 20,
      swaggerEnabled: true,
      logLevel: 'info',
      logFormat: 'json',
      corsOrigins: [],
    });
    expect(config.cognito.issuer).toBe('https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_Abc123');
    expect(config.cognito.jwksUri).toBe(`${config.cognito.issuer}/.well-known/jwks.json`);
  });

  it('reads the DB_* parts an ECS task gets from an RDS secret', () => {
    const config = loadConfig({
      ...base,
      DATABASE_URL: undefined,
      DB_HOST: 'rds',
      DB_PORT: '5433',
      DB_USERNAME: 'api',
      DB_PASSWORD: 'pw',
      DB_NAME: 'app',
      DB_SSL: 'true',
    });
    expect(config.database).toMatchObject({
      host: 'rds',
      port: 5433,
      username: 'api',
      password: 'pw',
      database: 'app',
      ssl: { rejectUnauthorized: true },
    });
  });

  it('leaves uploads off without S3_BUCKET, and takes the S3 region from Cognito by default', () => {
    expect(loadConfig(base).s3).toBeUndefined();
    expect(loadConfig({ ...base, S3_BUCKET: 'media.example' }).s3).toEqual({
      bucket: 'media.example',
      region: 'ap-northeast-2',
      endpoint: undefined,
      uploadMaxBytes: 10 * 1024 * 1024,
    });
    expect(
      loadConfig({ ...base, S3_BUCKET: 'media', S3_REGION: 'eu-west-1', S3_ENDPOINT: 'http://127.0.0.1:4568', UPLOAD_MAX_BYTES: '1024' })
        .s3,
    ).toEqual({ bucket: 'media', region: 'eu-west-1', endpoint: 'http://127.0.0.1:4568', uploadMaxBytes: 1024 });
  });

  it('turns Swagger off by default in production', () => {
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).swaggerEnabled).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production', SWAGGER_ENABLED: 'true' }).swaggerEnabled).toBe(true);
  });

  it('serves the admin console by default except in production, and reads ADMIN_CONSOLE_ENABLED strictly', () => {
    expect(loadConfig(base).adminConsoleEnabled).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).adminConsoleEnabled).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production', ADMIN_CONSOLE_ENABLED: 'true' }).adminConsoleEnabled).toBe(true);
    expect(loadConfig({ ...base, ADMIN_CONSOLE_ENABLED: '0' }).adminConsoleEnabled).toBe(false);
    expect(() => loadConfig({ ...base, ADMIN_CONSOLE_ENABLED: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ADMIN_CONSOLE_ENABLED: 'yes' })).toThrow(/ADMIN_CONSOLE_ENABLED/);
  });

  it('reads REAUTH_MAX_AGE, 300 s by default', () => {
    expect(loadConfig(base).reauthMaxAgeSeconds).toBe(300);
    expect(loadConfig({ ...base, REAUTH_MAX_AGE: '60' }).reauthMaxAgeSeconds).toBe(60);
    expect(loadConfig({ ...base, REAUTH_MAX_AGE: '3600' }).reauthMaxAgeSeconds).toBe(3600);
  });

  it.each([
    [{ COGNITO_REGION: undefined }, 'COGNITO_REGION is required'],
    [{ COGNITO_CLIENT_ID: ' ' }, 'COGNITO_CLIENT_ID is required'],
    [{ DATABASE_URL: undefined }, 'DATABASE_URL or DB_HOST'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must use postgres:'],
    [{ PORT: '70000' }, 'PORT must be an integer between 1 and 65535'],
    [{ DB_POOL_MAX: '0' }, 'DB_POOL_MAX must be an integer'],
    [{ DB_SSL: 'yes' }, 'DB_SSL must be true or false'],
    [{ DB_SSL: 'true', DB_SSL_CA: '/nonexistent/ca.pem' }, 'DB_SSL_CA cannot be read'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY must be true or false'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ LOG_FORMAT: 'fancy' }, 'LOG_FORMAT must be one of json, pretty'],
    [{ CORS_ORIGINS: 'https://ok.example.com,not a url' }, 'CORS_ORIGINS must list origins'],
    [{ REDIS_URL: 'http://redis' }, 'REDIS_URL must use redis:'],
    [{ COGNITO_USER_POOL_ID: 'nounderscore' }, 'COGNITO_USER_POOL_ID must look like'],
    [{ COGNITO_ISSUER: 'not a url' }, 'COGNITO_ISSUER must be a URL'],
    [{ COGNITO_DOMAIN: 'ftp://auth.example.com' }, 'COGNITO_DOMAIN must use https: or http:'],
    [{ COGNITO_DOMAIN: 'https://auth.example.com' }, 'OAUTH_REDIRECT_URIS is required with COGNITO_DOMAIN'],
    [{ COGNITO_DOMAIN: 'https://auth.example.com', OAUTH_REDIRECT_URIS: 'https://app.example.com/cb,cb' }, 'OAUTH_REDIRECT_URIS must list'],
    [{ S3_BUCKET: 'Not_A_Bucket' }, 'S3_BUCKET must be an S3 bucket name'],
    [{ S3_BUCKET: 'media', S3_REGION: 'earth' }, 'S3_REGION must look like'],
    [{ S3_BUCKET: 'media', S3_ENDPOINT: 'ftp://s3' }, 'S3_ENDPOINT must use https: or http:'],
    [{ UPLOAD_MAX_BYTES: '0' }, 'UPLOAD_MAX_BYTES must be an integer'],
    [{ UPLOAD_MAX_BYTES: '10MB' }, 'UPLOAD_MAX_BYTES must be an integer'],
    [{ REAUTH_MAX_AGE: '59' }, 'REAUTH_MAX_AGE must be an integer between 60 and 3600'],
    [{ REAUTH_MAX_AGE: '3601' }, 'REAUTH_MAX_AGE must be an integer between 60 and 3600'],
    [{ REAUTH_MAX_AGE: '5m' }, 'REAUTH_MAX_AGE must be an integer'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT must'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must use http:'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json'],
    [{ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'json' }, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL must be one of'],
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED must be true or false'],
  ])('refuses %o with a message naming the variable', (override, message) => {
    expect(() => loadConfig({ ...base, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...override })).toThrow(message);
  });

  it('turns the Hosted UI code exchange on only with COGNITO_DOMAIN', () => {
    expect(loadConfig(base).cognito.hostedUi).toBeUndefined();
    const config = loadConfig({
      ...base,
      COGNITO_DOMAIN: 'https://auth.example.com/',
      OAUTH_REDIRECT_URIS: 'https://app.example.com/callback, myapp://callback',
    });
    expect(config.cognito.hostedUi).toEqual({
      domain: 'https://auth.example.com',
      redirectUris: ['https://app.example.com/callback', 'myapp://callback'],
    });
  });
});

describe('loadTelemetryConfig', () => {
  it('is off when no OTLP endpoint is set, whatever else is', () => {
    expect(loadTelemetryConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({
      enabled: false,
      serviceName: 'x',
    });
  });

  it.each(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'])(
    'is on when %s is set, with the service name api by default',
    (name) => {
      expect(loadTelemetryConfig({ [name]: 'http://127.0.0.1:4318' })).toEqual({ enabled: true, serviceName: 'api' });
    },
  );

  it('is off when OTEL_SDK_DISABLED is true (in any case), as the SDK reads it', () => {
    expect(loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'TRUE' }).enabled).toBe(false);
    expect(loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'false' }).enabled).toBe(true);
  });
});

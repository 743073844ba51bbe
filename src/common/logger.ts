import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { LogFormat, LogLevel } from '../config/app-config';
import { currentRequestId } from './request-context';

/** Anything that could carry a secret (tokens, passwords, codes) is censored before a line is written: no secret in a log. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.code',
  '*.accessToken',
  '*.idToken',
  '*.refreshToken',
  '*.AccessToken',
  '*.RefreshToken',
  '*.Password',
  '*.ConfirmationCode',
  '*.SecretHash',
];

/**
 * JSON lines on stdout (or `destination`, for tests), with secrets censored. Log an error as
 * `{ err: error }`: pino's serialiser writes its type, message and stack. `pretty` (npm run dev)
 * writes the same lines through pino's pretty transport (pino-pretty, a devDependency: never in
 * the image, where the format is always JSON).
 */
export function createRootLogger(level: LogLevel, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  // Lines written on the root logger while a request runs (Nest's Logger in services) get the
  // request's id. Fastify's per-request child logger already binds it: adding it again would
  // write the key twice.
  const options: pino.LoggerOptions = {
    level,
    mixin: (_fields, _level, instance) => {
      const requestId = instance === root ? currentRequestId() : undefined;
      // A new object each time: pino merges the line's fields into it.
      return requestId === undefined ? {} : { requestId };
    },
    base: { service: 'api' },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    ...(format === 'pretty' && destination === undefined
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } }
      : {}),
  };
  const root = destination === undefined ? pino(options) : pino(options, destination);
  return root;
}

/** Nest's own log calls (`new Logger('X').warn(...)`) go to the same JSON stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest appends the logger's context as the last string argument. */
  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const text = rest.filter((p): p is string => typeof p === 'string').join(' ');
    if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...message }, text);
    } else {
      this.logger[level]({ context }, [String(message), text].filter((s) => s !== '').join(' '));
    }
  }
}

/**
 * Fastify's child logger for a request (its id bound), made when the request first writes a line.
 * Fastify makes one per request; with redaction configured, pino runs the redaction over the
 * bindings each time, about 5 KB of garbage per request (heap profile of GET /v1/posts) for a
 * logger that most requests never write to. Lines and levels are the child's own.
 */
export function lazyChildLogger(parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions): Logger {
  return new LazyChildLogger(parent, bindings, options) as unknown as Logger;
}

/** One object per request, its methods on the prototype: no closures to allocate. */
class LazyChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly childBindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.real().level = level;
  }
  fatal(...args: Parameters<Logger['fatal']>): void {
    this.real().fatal(...args);
  }
  error(...args: Parameters<Logger['error']>): void {
    this.real().error(...args);
  }
  warn(...args: Parameters<Logger['warn']>): void {
    this.real().warn(...args);
  }
  info(...args: Parameters<Logger['info']>): void {
    this.real().info(...args);
  }
  debug(...args: Parameters<Logger['debug']>): void {
    this.real().debug(...args);
  }
  trace(...args: Parameters<Logger['trace']>): void {
    this.real().trace(...args);
  }
  silent(...args: Parameters<Logger['silent']>): void {
    this.real().silent(...args);
  }
  child(...args: Parameters<Logger['child']>): ReturnType<Logger['child']> {
    return this.real().child(...args);
  }
  isLevelEnabled(level: string): boolean {
    return this.real().isLevelEnabled(level);
  }
  bindings(): pino.Bindings {
    return this.real().bindings();
  }

  private real(): Logger {
    return (this.made ??= this.parent.child(this.childBindings, this.options));
  }
}

import {
  CognitoIdentityProviderClient,
  CognitoIdentityProviderClientResolvedConfig,
  CognitoIdentityProviderPaginationConfiguration,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-cognito-identity-provider';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { Command, PaginationConfiguration, Paginator } from '@smithy/types';
import { createHmac } from 'node:crypto';
import { AppConfig, CognitoConfig } from '../config/app-config';
import { currentClientIp } from '../common/request-context';
import { CognitoErrorOverrides, errorName, mapCognitoError } from './cognito-errors';

/** The longest a request waits for any one Cognito call, retries included, before it answers 503. */
export const COGNITO_CALL_DEADLINE_MS = 2_500;

/** A command of the Cognito API with input `I` and output `O`. */
export type CognitoCommand<I extends ServiceInputTypes, O extends ServiceOutputTypes> = Command<
  ServiceInputTypes,
  I,
  ServiceOutputTypes,
  O,
  CognitoIdentityProviderClientResolvedConfig
>;

/** One of the SDK's `paginateXxx` functions. */
export type CognitoPaginate<I, O> = (
  config: CognitoIdentityProviderPaginationConfiguration,
  input: I,
  options: { abortSignal?: AbortSignal },
) => Paginator<O>;

/**
 * The SDK client both Cognito services share, and the one way they call it: every call has the
 * deadline, and every SDK error leaves as an `ApiError` with the contract's code, so callers never
 * see SDK types for failures.
 */
@Injectable()
export class CognitoApi implements OnModuleDestroy {
  readonly config: CognitoConfig;
  private readonly client: CognitoIdentityProviderClient;

  constructor(config: AppConfig) {
    this.config = config.cognito;
    this.client = new CognitoIdentityProviderClient({
      region: this.config.region,
      endpoint: this.config.endpoint,
      // Throttling (and transient faults) are retried twice with exponential backoff before we
      // answer 429 / 503. The SDK's default backoff for throttling (random up to 1 s, then 2 s)
      // would not fit the call's deadline; 200 ms then 400 ms does.
      retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 100 * 2 ** attempt),
      // An unreachable Cognito must give a fast 503, not a hung request: a connection that is not
      // up in 1 s, or an attempt with no answer by the call's deadline, is an error (the SDK only
      // logs an expired requestTimeout unless told to throw).
      requestHandler: { connectionTimeout: 1_000, requestTimeout: COGNITO_CALL_DEADLINE_MS, throwOnRequestTimeout: true },
    });
  }

  onModuleDestroy(): void {
    this.client.destroy();
  }

  get clientId(): string {
    return this.config.clientId;
  }

  get userPoolId(): string {
    return this.config.userPoolId;
  }

  /** SECRET_HASH is required on user-facing calls when the app client has a secret. */
  secretHash(username: string): { SecretHash?: string } {
    const secret = this.config.clientSecret;
    if (secret === undefined) {
      return {};
    }
    return { SecretHash: createHmac('sha256', secret).update(username + this.clientId).digest('base64') };
  }

  /** The same, as the SECRET_HASH parameter of an auth flow or a challenge answer. */
  secretHashParam(username: string): { SECRET_HASH?: string } {
    const { SecretHash } = this.secretHash(username);
    return SecretHash === undefined ? {} : { SECRET_HASH: SecretHash };
  }

  /**
   * The signing-in user's address for Cognito's threat protection (its risk engine would otherwise
   * see the task's address): the client IP of the request being served, under the TRUST_PROXY
   * rules. `EncodedData` is only collected by Cognito's browser and mobile SDKs.
   */
  userContext(): { UserContextData?: { IpAddress: string } } {
    const ip = currentClientIp();
    return ip === undefined ? {} : { UserContextData: { IpAddress: ip } };
  }

  /**
   * Sends `command`: the whole call, retries and backoff included, is abandoned at the deadline,
   * so a black-holed Cognito answers 503 IDP_UNAVAILABLE in bounded time. `overrides` give the
   * SDK's exception names the meaning they have for this operation.
   */
  async send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    operation: string,
    command: CognitoCommand<I, O>,
    overrides?: CognitoErrorOverrides,
  ): Promise<O> {
    try {
      return await this.client.send(command, deadline());
    } catch (error) {
      throw mapCognitoError(error, operation, overrides);
    }
  }

  /**
   * Like `send`, but the named SDK errors mean "not there", "already done" or "nothing to
   * reveal": the answer is null instead of an error.
   */
  async sendOrNull<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    operation: string,
    command: CognitoCommand<I, O>,
    absent: string[],
  ): Promise<O | null> {
    try {
      return await this.client.send(command, deadline());
    } catch (error) {
      if (absent.includes(errorName(error) ?? '')) {
        return null;
      }
      throw mapCognitoError(error, operation);
    }
  }

  /**
   * Every page of a listing, walked with the SDK's paginator, each page a call with its own
   * deadline (a long walk is not one deadline) and the same error mapping as `send`.
   */
  async *pages<I, O>(operation: string, paginate: CognitoPaginate<I, O>, input: I, pageSize?: number): AsyncGenerator<O> {
    // The paginator hands the same options to every page's send; `withCommand` runs just before
    // each one, so that is where the page gets its fresh deadline. The paginator also writes the
    // next token into one shared input object: each page is sent as a new command of the same class
    // with its own copy of the input, so a command once sent keeps saying what it sent.
    const options: { abortSignal?: AbortSignal } = {};
    const withCommand: PaginationConfiguration['withCommand'] = (command) => {
      options.abortSignal = deadline().abortSignal;
      const Ctor = command.constructor as new (input: unknown) => typeof command;
      return new Ctor({ ...(command.input as object) });
    };
    try {
      yield* paginate({ client: this.client, pageSize, withCommand }, input, options);
    } catch (error) {
      throw mapCognitoError(error, operation);
    }
  }
}

function deadline(): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(COGNITO_CALL_DEADLINE_MS) };
}

import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { AppConfig, CognitoConfig, HostedUiConfig } from '../config/app-config';
import { COGNITO_CALL_DEADLINE_MS } from './cognito-api';
import { CognitoTokens } from './cognito.types';

interface TokenEndpointAnswer {
  access_token?: unknown;
  id_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
}

/**
 * The pool's Hosted UI (managed login) token endpoint: the OAuth 2.0 authorization-code grant
 * with PKCE (RFC 7636). Not part of the Cognito API the SDK speaks, so plain HTTP, with the same
 * deadline as every other Cognito call. The endpoint is `{COGNITO_DOMAIN}/oauth2/token`, never
 * discovered: a domain's openid-configuration is one more round trip and one more thing to trust.
 */
@Injectable()
export class HostedUiService {
  private readonly logger = new Logger(HostedUiService.name);
  private readonly cognito: CognitoConfig;

  constructor(config: AppConfig) {
    this.cognito = config.cognito;
  }

  async exchangeCode(hostedUi: HostedUiConfig, input: { code: string; codeVerifier: string; redirectUri: string }): Promise<CognitoTokens> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.cognito.clientSecret !== undefined) {
      // A confidential app client authenticates with HTTP Basic (client_secret_basic).
      const basic = Buffer.from(`${encodeURIComponent(this.cognito.clientId)}:${encodeURIComponent(this.cognito.clientSecret)}`);
      headers.authorization = `Basic ${basic.toString('base64')}`;
    }
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: this.cognito.clientId,
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.codeVerifier,
    });
    let response: Response;
    let answer: TokenEndpointAnswer;
    try {
      response = await fetch(`${hostedUi.domain}/oauth2/token`, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(COGNITO_CALL_DEADLINE_MS),
      });
      answer = (await response.json().catch(() => ({}))) as TokenEndpointAnswer;
    } catch (error) {
      this.logger.warn({ operation: 'oauth2/token', errorName: (error as Error).name }, 'cognito call failed');
      throw ApiError.idpUnavailable(undefined, error);
    }
    if (response.status === 429) {
      throw ApiError.tooManyRequests(1, 'Too many attempts, try again shortly');
    }
    if (response.status === 400 && (answer.error === 'invalid_grant' || answer.error === 'invalid_request')) {
      // Unknown, used or expired code, a verifier that does not match the challenge, or a code
      // issued for another redirect URI: the client starts the login again.
      throw new ApiError(400, 'INVALID_GRANT', 'The authorization code is invalid, used or expired, or the code verifier is wrong');
    }
    const { access_token: accessToken, id_token: idToken, refresh_token: refreshToken, expires_in: expiresIn } = answer;
    if (!response.ok || typeof accessToken !== 'string' || typeof idToken !== 'string') {
      // invalid_client, unauthorized_client, a 5xx: our configuration or Cognito, not the caller.
      this.logger.warn(
        { operation: 'oauth2/token', status: response.status, errorName: typeof answer.error === 'string' ? answer.error : 'unknown' },
        'cognito call failed',
      );
      throw ApiError.idpUnavailable();
    }
    return {
      accessToken,
      idToken,
      refreshToken: typeof refreshToken === 'string' ? refreshToken : undefined,
      expiresIn: typeof expiresIn === 'number' ? expiresIn : 3600,
    };
  }
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TotpSecretResponse } from '../../users/dto/mfa.response';
import { CodeDeliveryResponse } from '../../users/dto/user-profile.response';

export class SignupResponse {
  @ApiProperty() userSub: string;
  @ApiProperty({ enum: [false] }) confirmed: false;
  @ApiProperty({ type: CodeDeliveryResponse }) codeDelivery: CodeDeliveryResponse;
}

export class TokensResponse {
  @ApiProperty() accessToken: string;
  @ApiProperty() idToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
}

export class RefreshedTokensResponse {
  @ApiProperty() accessToken: string;
  @ApiProperty() idToken: string;
  @ApiProperty() expiresIn: number;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
}

export class ChallengeResponse {
  @ApiProperty({ example: 'SOFTWARE_TOKEN_MFA', description: "Cognito's challenge name" }) name: string;
  @ApiProperty({ description: 'Send it back with the answer to POST /v1/auth/challenge' }) session: string;
  @ApiProperty({ description: 'Seconds left to answer before the client has to log in again' }) expiresIn: number;
}

export class ChallengeEnvelope {
  @ApiProperty({ type: ChallengeResponse }) challenge: ChallengeResponse;
  @ApiPropertyOptional({ type: TotpSecretResponse, description: 'MFA_SETUP only: the secret to enrol before answering with a code' })
  totp?: TotpSecretResponse;
}

/** A login step ends in tokens or in the next challenge. */
export type LoginResponse = TokensResponse | ChallengeEnvelope;

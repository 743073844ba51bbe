import { ApiProperty } from '@nestjs/swagger';
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

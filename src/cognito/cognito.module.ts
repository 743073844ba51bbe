import { Global, Module } from '@nestjs/common';
import { CognitoAdminService } from './cognito-admin.service';
import { CognitoApi } from './cognito-api';
import { CognitoSelfService } from './cognito-self.service';
import { HostedUiService } from './hosted-ui.service';

@Global()
@Module({
  providers: [CognitoApi, CognitoSelfService, CognitoAdminService, HostedUiService],
  exports: [CognitoSelfService, CognitoAdminService, HostedUiService],
})
export class CognitoModule {}

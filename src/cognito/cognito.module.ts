import { Global, Module } from '@nestjs/common';
import { CognitoService } from './cognito.service';
import { HostedUiService } from './hosted-ui.service';

@Global()
@Module({ providers: [CognitoService, HostedUiService], exports: [CognitoService, HostedUiService] })
export class CognitoModule {}

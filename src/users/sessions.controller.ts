import { Authenticated } from '../identity/authenticated.decorator';
import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { RecentSignIn } from '../identity/recent-sign-in';
import { UuidParam } from '../common/validation';
import { SessionList } from './dto/session.response';
import { SessionsService } from './sessions.service';

@ApiTags('users')
@Authenticated()
@Controller('v1/users/me/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({ summary: 'Where the caller is signed in: the sessions not ended and not expired, newest first' })
  @ApiOkResponse({ type: SessionList })
  list(@CurrentUser() caller: AuthUser): Promise<SessionList> {
    return this.sessions.list(caller.id, caller.sessionId);
  }

  @Delete()
  @HttpCode(204)
  @RecentSignIn()
  @ApiOperation({ summary: 'End every session but the calling one (needs a recent sign-in)' })
  @ApiNoContentResponse()
  endOthers(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.sessions.endOthers(caller);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End one session: its access tokens are refused at once and its refresh token no longer refreshes' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such session of the caller' })
  end(@CurrentUser() caller: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.sessions.end(caller, id);
  }
}

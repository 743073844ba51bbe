import { Authenticated } from '../identity/authenticated.decorator';
import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { UuidParam } from '../common/validation';
import { SessionList } from '../users/dto/session.response';
import { AdminSessionsService } from './admin-sessions.service';

@ApiTags('admin')
@Authenticated({ admin: true })
@Controller('v1/admin/users/:id/sessions')
export class AdminSessionsController {
  constructor(private readonly sessions: AdminSessionsService) {}

  @Get()
  @ApiOperation({ summary: "A user's sessions not ended and not expired, newest first (current is always false)" })
  @ApiOkResponse({ type: SessionList })
  @ApiNotFoundResponse({ description: 'No such user' })
  list(@UuidParam('id') id: string): Promise<SessionList> {
    return this.sessions.list(id);
  }

  @Delete(':sessionId')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of a user's sessions (audited as session.revoke)" })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user, or no such session of the user' })
  end(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string, @UuidParam('sessionId') sessionId: string): Promise<void> {
    return this.sessions.end(actor, id, sessionId);
  }
}

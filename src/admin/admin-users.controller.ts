import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { Page } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { AdminUsersService } from './admin-users.service';
import { GroupNamePipe } from './group-name.pipe';
import { AdminUserQueryDto, InviteUserDto } from './dto/admin.dto';
import { AdminUserDetail, AdminUserPage, AdminUserSummary } from './dto/admin.response';

@ApiTags('admin')
@Authenticated({ admin: true })
@Controller('v1/admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Get()
  @ApiOkResponse({ type: AdminUserPage })
  list(@Query() query: AdminUserQueryDto): Promise<Page<AdminUserSummary>> {
    return this.users.list(query);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Invite a user: Cognito emails a temporary password; the first login asks for a new one' })
  @ApiCreatedResponse({ type: AdminUserDetail, description: 'Location: /v1/admin/users/{id}' })
  async invite(
    @CurrentUser() actor: AuthUser,
    @Body() dto: InviteUserDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AdminUserDetail> {
    const user = await this.users.invite(actor, dto);
    void reply.header('Location', `/v1/admin/users/${user.id}`);
    return user;
  }

  @Get(':id')
  detail(@UuidParam('id') id: string): Promise<AdminUserDetail> {
    return this.users.detail(id);
  }

  @Post(':id/disable')
  @HttpCode(204)
  disable(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.users.disable(actor, id);
  }

  @Post(':id/enable')
  @HttpCode(204)
  enable(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.users.enable(actor, id);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.users.delete(actor, id);
  }

  @Put(':id/groups/:name')
  @HttpCode(204)
  addToGroup(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string, @Param('name', GroupNamePipe) name: string): Promise<void> {
    return this.users.addToGroup(actor, id, name);
  }

  @Delete(':id/groups/:name')
  @HttpCode(204)
  removeFromGroup(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string, @Param('name', GroupNamePipe) name: string): Promise<void> {
    return this.users.removeFromGroup(actor, id, name);
  }
}

import { Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ADMIN_GROUP, AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { Roles } from '../auth/decorators/roles.decorator';
import { Page } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { AdminService } from './admin.service';
import { GroupNamePipe } from './group-name.pipe';
import { AdminUserQueryDto } from './dto/admin.dto';
import { AdminUserDetail, AdminUserPage, AdminUserSummary } from './dto/admin.response';

@ApiTags('admin')
@ApiBearerAuth()
@Roles(ADMIN_GROUP)
@Controller('v1/admin/users')
export class AdminUsersController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOkResponse({ type: AdminUserPage })
  list(@Query() query: AdminUserQueryDto): Promise<Page<AdminUserSummary>> {
    return this.admin.listUsers(query);
  }

  @Get(':id')
  detail(@UuidParam('id') id: string): Promise<AdminUserDetail> {
    return this.admin.userDetail(id);
  }

  @Post(':id/disable')
  @HttpCode(204)
  disable(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.admin.disable(actor, id);
  }

  @Post(':id/enable')
  @HttpCode(204)
  enable(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.admin.enable(actor, id);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.admin.deleteUser(actor, id);
  }

  @Put(':id/groups/:name')
  @HttpCode(204)
  addToGroup(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string, @Param('name', GroupNamePipe) name: string): Promise<void> {
    return this.admin.addToGroup(actor, id, name);
  }

  @Delete(':id/groups/:name')
  @HttpCode(204)
  removeFromGroup(@CurrentUser() actor: AuthUser, @UuidParam('id') id: string, @Param('name', GroupNamePipe) name: string): Promise<void> {
    return this.admin.removeFromGroup(actor, id, name);
  }
}

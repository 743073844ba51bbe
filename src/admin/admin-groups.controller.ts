import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { CreateGroupDto } from './dto/admin.dto';
import { GroupMember, GroupResponse } from './dto/admin.response';
import { AdminGroupsService } from './admin-groups.service';
import { GroupNamePipe } from './group-name.pipe';

@ApiTags('admin')
@Authenticated({ admin: true })
@Controller('v1/admin/groups')
export class AdminGroupsController {
  constructor(private readonly groups: AdminGroupsService) {}

  @Get()
  list(): Promise<GroupResponse[]> {
    return this.groups.list();
  }

  @Post()
  @HttpCode(201)
  create(@CurrentUser() actor: AuthUser, @Body() dto: CreateGroupDto): Promise<GroupResponse> {
    return this.groups.create(actor, dto);
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@CurrentUser() actor: AuthUser, @Param('name', GroupNamePipe) name: string): Promise<void> {
    return this.groups.delete(actor, name);
  }

  @Get(':name/users')
  members(@Param('name', GroupNamePipe) name: string): Promise<GroupMember[]> {
    return this.groups.members(name);
  }
}

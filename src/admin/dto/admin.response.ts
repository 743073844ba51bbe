import { ApiProperty } from '@nestjs/swagger';
import { PageResponse } from '../../common/pagination';
import { USER_STATUSES, UserStatus } from '../../identity/entities/user-mapping.entity';
import { UserProfileResponse } from '../../users/dto/user-profile.response';

export class AdminUserSummary {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) nickname: string | null;
  @ApiProperty({ enum: USER_STATUSES }) status: UserStatus;
  @ApiProperty() createdAt: string;
}

export class AdminUserPage extends PageResponse {
  @ApiProperty({ type: [AdminUserSummary] }) items: AdminUserSummary[];
}

export class AdminUserDetail extends UserProfileResponse {
  @ApiProperty() enabled: boolean;
}

export class GroupResponse {
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ nullable: true, type: Number }) precedence: number | null;
}

export class GroupMember {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) nickname: string | null;
}

export class AuditEntryResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) actorId: string;
  @ApiProperty() action: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) targetUserId: string | null;
  @ApiProperty({ type: Object }) details: Record<string, unknown>;
  @ApiProperty() createdAt: string;
}

export class AuditPage extends PageResponse {
  @ApiProperty({ type: [AuditEntryResponse] }) items: AuditEntryResponse[];
}

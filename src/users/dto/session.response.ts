import { ApiProperty } from '@nestjs/swagger';
import type { SessionRow } from '../sessions.repository';

/** One sign-in and every token refreshed from it. */
export class SessionResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time', description: 'When the sign-in happened (or the service first saw its tokens)' }) createdAt: string;
  @ApiProperty({ format: 'date-time', description: 'The last request made with it, accurate to 5 minutes' }) lastSeenAt: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 256, description: 'User-Agent of the sign-in request' }) userAgent: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Client IP of the sign-in request' }) ipAddress: string | null;
  @ApiProperty({ description: "The calling token's session" }) current: boolean;

  static from(row: SessionRow, currentId: string | null): SessionResponse {
    return {
      id: row.id,
      createdAt: row.created_at.toISOString(),
      lastSeenAt: row.last_seen_at.toISOString(),
      userAgent: row.user_agent,
      ipAddress: row.ip_address,
      current: row.id === currentId,
    };
  }
}

export class SessionList {
  @ApiProperty({ type: [SessionResponse], description: 'Newest first: the sessions not ended and not expired' }) items: SessionResponse[];
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Access tokens refused before they expire (logout). Rows past `expires_at` are purged. */
@Entity({ name: 'revoked_tokens' })
export class RevokedToken {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  jti: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

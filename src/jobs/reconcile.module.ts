import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CognitoModule } from '../cognito/cognito.module';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/app-config.module';
import { DatabaseModule } from '../database/database.module';
import { databaseOptions } from '../database/database-options';
import { AccountChangesService } from '../users/account-changes.service';
import { PendingChangesRepository } from '../users/pending-changes.repository';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { UserMirrorRepository } from '../users/user-mirror.repository';
import { WithdrawalRepository } from '../users/withdrawal.repository';
import { WithdrawalService } from '../users/withdrawal.service';
import { ReconcileService } from './reconcile.service';

/**
 * What the reconcile job needs and nothing more: no HTTP, no sweeper timer. The withdrawal
 * service (with the account changes it checks the last admin against) and its event handler are
 * the app's own, so a withdrawal here is the same as any.
 */
@Module({})
export class ReconcileModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ReconcileModule,
      imports: [
        AppConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ ...databaseOptions(config.database, []), retryAttempts: 3, retryDelay: 1_000 }),
        DatabaseModule,
        CognitoModule,
      ],
      providers: [
        AccountChangesService,
        PendingChangesRepository,
        UserMappingRepository,
        UserMirrorRepository,
        WithdrawalRepository,
        WithdrawalService,
        ReconcileService,
      ],
    };
  }
}

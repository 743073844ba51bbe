import {
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  ListUsersInGroupCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountGateService } from '../../src/auth/account-gate.service';
import { CognitoModule } from '../../src/cognito/cognito.module';
import { loadConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/app-config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { databaseOptions } from '../../src/database/database-options';
import { RevokedTokensRepository } from '../../src/auth/revoked-tokens.repository';
import { AccountChangesService } from '../../src/users/account-changes.service';
import { PendingChangesRepository } from '../../src/users/pending-changes.repository';
import { CallerStateRepository } from '../../src/users/caller-state.repository';
import { SessionsRepository } from '../../src/users/sessions.repository';
import { UserMappingRepository } from '../../src/users/user-mapping.repository';
import { WithdrawalHandler } from '../../src/users/withdrawal.handler';
import { WithdrawalRepository } from '../../src/users/withdrawal.repository';
import { WithdrawalService } from '../../src/users/withdrawal.service';
import { cognitoEnv, createUserPool, emulatorClient, UserPool } from '../stack/cognito-local';
import { seedUser } from '../stack/seed';
import { copyTemplateDatabase, DatabaseCopy } from '../support/database-copy';
import { uniqueEmail } from '../support/test-app';

export interface GivenUser {
  id: string;
  sub: string;
  username: string;
  email: string;
}

/**
 * The services of the account rules, wired by Nest as the app wires them, against a copy of the
 * template database and a user pool of their own in cognito-local. No HTTP: each test calls a
 * service and reads the tables.
 */
export interface ServiceHarness {
  db: DatabaseCopy;
  pool: UserPool;
  get<T>(type: new (...args: never[]) => T): T;
  given: {
    /** A confirmed Cognito user with its `user_mapping` row. */
    user(options?: { groups?: string[]; withdrawalRequestedSecondsAgo?: number }): Promise<GivenUser>;
    /** A post by `authorId`. */
    post(authorId: string, options?: { title?: string }): Promise<{ id: string }>;
  };
  /** Whether Cognito still knows the user. */
  inCognito(username: string): Promise<boolean>;
  /** Takes every member out of a Cognito group, so a test starts with the members it adds. */
  emptyGroup(group: string): Promise<void>;
  close(): Promise<void>;
}

export async function startServices(label: string): Promise<ServiceHarness> {
  const db = await copyTemplateDatabase(label);
  const endpoint = process.env.TEST_COGNITO_ENDPOINT!;
  const pool = await createUserPool(endpoint, db.name);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    ...cognitoEnv(pool, endpoint),
    LOG_LEVEL: 'error',
  });
  const context: INestApplicationContext = await NestFactory.createApplicationContext(
    {
      module: class AccountRulesModule {},
      imports: [
        AppConfigModule.forRoot(config),
        TypeOrmModule.forRoot(databaseOptions(config.database, [])),
        DatabaseModule,
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        CognitoModule,
      ],
      providers: [
        UserMappingRepository,
        CallerStateRepository,
        SessionsRepository,
        WithdrawalRepository,
        PendingChangesRepository,
        RevokedTokensRepository,
        WithdrawalService,
        WithdrawalHandler,
        AccountChangesService,
        AccountGateService,
      ],
    },
    { logger: false },
  );
  const cognito = emulatorClient(endpoint);
  let posts = 0;

  return {
    db,
    pool,
    get: (type) => context.get(type),
    given: {
      async user(options = {}) {
        const email = uniqueEmail('svc');
        const { id, sub } = await seedUser(endpoint, pool, db.url, {
          email,
          password: 'Passw0rd!long',
          nickname: 'nick',
          groups: options.groups,
        });
        if (options.withdrawalRequestedSecondsAgo !== undefined) {
          await db.pool.query(`UPDATE user_mapping SET withdrawal_requested_at = now() - make_interval(secs => $2) WHERE id = $1`, [
            id,
            options.withdrawalRequestedSecondsAgo,
          ]);
        }
        const { rows } = await db.pool.query<{ cognito_username: string }>(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [id]);
        return { id, sub, username: rows[0].cognito_username, email };
      },
      async post(authorId, options = {}) {
        posts += 1;
        const { rows } = await db.pool.query<{ id: string }>(
          `INSERT INTO posts (author_id, title, body) VALUES ($1, $2, 'body') RETURNING id`,
          [authorId, options.title ?? `post ${posts}`],
        );
        return rows[0];
      },
    },
    async inCognito(username) {
      try {
        await cognito.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: username }));
        return true;
      } catch (error) {
        if (error instanceof UserNotFoundException) {
          return false;
        }
        throw error;
      }
    },
    async emptyGroup(group) {
      const { Users = [] } = await cognito.send(new ListUsersInGroupCommand({ UserPoolId: pool.userPoolId, GroupName: group }));
      for (const user of Users) {
        await cognito.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: pool.userPoolId, Username: user.Username, GroupName: group }));
      }
    },
    async close() {
      cognito.destroy();
      await context.close();
      await db.drop();
    },
  };
}

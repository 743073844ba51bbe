import {
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  ListUsersInGroupCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../../src/auth/auth.module';
import { CognitoModule } from '../../src/cognito/cognito.module';
import { loadConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/app-config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { databaseOptions } from '../../src/database/database-options';
import { AccountChangesSweeper } from '../../src/users/account-changes.sweeper';
import { WithdrawalSweeper } from '../../src/users/withdrawal.service';
import { cognitoEnv, createUserPool, emulatorClient, UserPool } from '../../tools/local-stack/cognito-local';
import { createGiven, GivenUser, PostOptions, uniqueEmail, UserOptions } from '../../tools/local-stack/factory';
import { copyTemplateDatabase, DatabaseCopy } from '../support/database-copy';

export type { GivenUser };

/**
 * The services of the account rules, wired by the app's own modules (AuthModule and the
 * UsersModule it imports), against a copy of the template database and a user pool of their own
 * in cognito-local. No HTTP: each test calls a service and reads the tables.
 */
export interface ServiceHarness {
  db: DatabaseCopy;
  pool: UserPool;
  get<T>(type: new (...args: never[]) => T): T;
  given: {
    /** A confirmed Cognito user with its `user_mapping` row (tools/local-stack/factory.ts). */
    user(options?: Pick<UserOptions, 'groups' | 'withdrawalRequestedSecondsAgo'>): Promise<GivenUser>;
    /** A post by `authorId`. */
    post(authorId: string, options?: PostOptions): Promise<{ id: string }>;
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
  // The sweepers are the tests' to drive: a timer of their own would race the assertions.
  const context = await Test.createTestingModule({
    imports: [
      AppConfigModule.forRoot(config),
      TypeOrmModule.forRoot(databaseOptions(config.database, [])),
      DatabaseModule,
      CognitoModule,
      AuthModule,
    ],
  })
    .overrideProvider(WithdrawalSweeper)
    .useValue({})
    .overrideProvider(AccountChangesSweeper)
    .useValue({})
    .compile();
  context.useLogger(false);
  await context.init();
  const cognito = emulatorClient(endpoint);
  const factory = createGiven({ cognitoEndpoint: endpoint, pool, databaseUrl: db.url });

  return {
    db,
    pool,
    get: (type) => context.get(type, { strict: false }),
    given: {
      user: (options = {}) => factory.user({ ...options, email: uniqueEmail('svc'), nickname: 'nick' }),
      post: (authorId, options) => factory.post(authorId, options),
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
      await factory.close();
      await context.close();
      await db.drop();
    },
  };
}

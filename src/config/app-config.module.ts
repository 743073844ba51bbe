import { Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

/**
 * Makes the validated `AppConfig` injectable everywhere. Built by `main.ts` or a test. Named apart
 * from @nestjs/config's `ConfigModule`: this one reads nothing itself, it only provides the value
 * src/config already parsed and validated.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig) {
    return {
      module: AppConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}

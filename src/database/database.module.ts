import { Global, Module } from '@nestjs/common';
import { Transactions } from './transactions';

/** What every feature's repositories share beside the DataSource: the request's transaction. */
@Global()
@Module({
  providers: [Transactions],
  exports: [Transactions],
})
export class DatabaseModule {}

import { DataSource } from 'typeorm';
import { loadDatabaseConfigFromProcess } from '../config/app-config';
import { databaseOptions, RUNNABLE_MIGRATIONS } from './database-options';

/**
 * The data source the TypeORM CLI uses (`migration:generate`), built from the same env and
 * options as the app. Only database variables are needed for it.
 */
export default new DataSource(databaseOptions(loadDatabaseConfigFromProcess(), [RUNNABLE_MIGRATIONS]));

/** Type-only keys: a statement carries its row and parameter types, never values for them. */
declare const ROW: unique symbol;
declare const PARAMS: unique symbol;

/**
 * One SQL statement, declared once (a module-level constant beside its repository) with the row
 * it returns and the tuple of its parameters ($1, $2, ...), so `Transactions.rows` and
 * `Transactions.execute` type-check the parameters and type the rows. `Row` is `never` for a
 * statement that returns no rows (an UPDATE or DELETE without RETURNING: its rowCount is what
 * `execute` tells).
 */
export interface Statement<Row, Params extends readonly unknown[]> {
  readonly text: string;
  /**
   * A prepared statement's name, for the hot paths: parsed and planned once per pooled connection
   * (see CallerStateRepository). Unused inside a transaction or on a connection of its own.
   */
  readonly name: string | undefined;
  readonly [ROW]?: Row;
  readonly [PARAMS]?: Params;
}

export function statement<Row, Params extends readonly unknown[]>(text: string, options: { name?: string } = {}): Statement<Row, Params> {
  return Object.freeze({ text, name: options.name });
}

/**
 * For SQL whose text is built per call (a list whose WHERE holds only the filters given): the row
 * type is declared once, with the constant this returns, and each call makes its statement from
 * the text built then, e.g. `const POSTS_PAGE = dynamic<PostListRow>()` and
 * `transactions.rows(POSTS_PAGE(sql), params)`.
 */
export function dynamic<Row>(): (text: string) => Statement<Row, unknown[]> {
  return (text) => statement<Row, unknown[]>(text);
}

/** `commentCount` -> `comment_count`: a property name as the column name raw SQL returns. */
export type CamelToSnake<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${CamelToSnake<Tail>}`
  : S;

/** A column property: a value, or a Date; a relation (`author?: UserMapping`) or a method is not one. */
type ColumnKey<Entity, Key extends keyof Entity> = Key extends string
  ? NonNullable<Entity[Key]> extends Date
    ? Key
    : NonNullable<Entity[Key]> extends object
      ? never
      : Key
  : never;

/**
 * An entity's row as raw SQL returns it (`SELECT *`, `RETURNING *`): each column property under its
 * snake_case column name, with the property's type; relation properties left out. The entities
 * name their columns so (`@Column({ name: 'cognito_sub' }) cognitoSub`), and declare the type
 * node-postgres returns (a bigint is a string). For a query's own row, pick from it:
 * `Pick<RowOf<Post>, 'id' | 'title'> & { author_nickname: ... }`.
 */
export type RowOf<Entity> = { [Key in keyof Entity as CamelToSnake<ColumnKey<Entity, Key>>]: Entity[Key] };

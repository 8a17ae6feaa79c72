/**
 * The one method the sample's services need of a database. A `pg` Pool and its PoolClient, PGlite and
 * its Transaction all have it, so a service's SQL runs the same on Postgres and on the embedded
 * default, inside a webhook handler's transaction or outside one.
 */
export interface Sql {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

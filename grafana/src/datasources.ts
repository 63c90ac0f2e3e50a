import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The provisioned datasources (grafana/provisioning/datasources/datasources.yml), by fixed uid. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const POSTGRES: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'postgres' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: 'jaeger' };

/** The service name spans carry (OTEL_SERVICE_NAME in docker-compose.yml; the default in startTracing.ts). */
export const SERVICE_NAME = 'tv-webhook';

/** A raw SQL query for the Postgres datasource (the SDK 0.0.21 has no builder for it). */
export interface SqlQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  format: 'table' | 'time_series';
  rawQuery: true;
  editorMode: 'code';
}

export class SqlQueryBuilder implements Builder<Dataquery> {
  private readonly query: SqlQuery;
  constructor(rawSql: string, format: SqlQuery['format'] = 'table') {
    this.query = { refId: 'A', datasource: POSTGRES, rawSql, format, rawQuery: true, editorMode: 'code', _implementsDataqueryVariant() {} };
  }
  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }
  build(): SqlQuery {
    return this.query;
  }
}

/** A Jaeger trace search (the SDK 0.0.21 has no Jaeger query builder): Grafana's Jaeger datasource query model. */
export interface JaegerSearchQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  queryType: 'search';
  service: string;
  tags?: string;
  minDuration?: string;
  limit: number;
}

export class JaegerSearchBuilder implements Builder<Dataquery> {
  private readonly query: JaegerSearchQuery;
  constructor(refId: string, options: { tags?: string; minDuration?: string; limit?: number }) {
    this.query = { refId, datasource: JAEGER, queryType: 'search', service: SERVICE_NAME, ...options, limit: options.limit ?? 20, _implementsDataqueryVariant() {} };
  }
  build(): JaegerSearchQuery {
    return this.query;
  }
}

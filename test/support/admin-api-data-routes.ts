/**
 * The routes test/admin/api-routes-data.test.ts covers (it checks its table is exactly these):
 * directories, files of the tree, tenant writes, group edits and replacing a parameter layer.
 * The files routes end in a wildcard, which the OpenAPI document writes as `{*}`.
 */
export const DATA_TABLE_ROUTES: readonly string[] = [
  'get /api/v1/tenants/{tenant}/directory',
  'get /api/v1/tenants/{tenant}/directory.csv',
  'put /api/v1/tenants/{tenant}/directory',
  'get /api/v1/tenants/{tenant}/devices/{mac}/directory',
  'get /api/v1/tenants/{tenant}/devices/{mac}/directory.csv',
  'put /api/v1/tenants/{tenant}/devices/{mac}/directory',
  'get /api/v1/tenants/{tenant}/files',
  'get /api/v1/tenants/{tenant}/files/{*}',
  'put /api/v1/tenants/{tenant}/files/{*}',
  'delete /api/v1/tenants/{tenant}/files/{*}',
  'post /api/v1/tenants',
  'patch /api/v1/tenants/{tenant}',
  'delete /api/v1/tenants/{tenant}',
  'patch /api/v1/tenants/{tenant}/groups/{group}',
  'put /api/v1/tenants/{tenant}/parameters',
];

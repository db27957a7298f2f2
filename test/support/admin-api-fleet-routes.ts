/**
 * The routes test/admin/api-routes-fleet.test.ts covers (firmware library, status and targets;
 * rollouts; the global firmware library): it checks its table is exactly these, so api-routes.test.ts can check that the tables
 * together cover every documented route.
 */
export const FLEET_TABLE_ROUTES: readonly string[] = [
  'get /api/v1/tenants/{tenant}/firmware',
  'post /api/v1/tenants/{tenant}/firmware',
  'get /api/v1/tenants/{tenant}/firmware/{version}',
  'delete /api/v1/tenants/{tenant}/firmware/{version}',
  'get /api/v1/tenants/{tenant}/firmware-status',
  'get /api/v1/tenants/{tenant}/firmware-target',
  'put /api/v1/tenants/{tenant}/firmware-target',
  'delete /api/v1/tenants/{tenant}/firmware-target',
  'get /api/v1/tenants/{tenant}/rollouts',
  'post /api/v1/tenants/{tenant}/rollouts',
  'get /api/v1/tenants/{tenant}/rollouts/{name}',
  'post /api/v1/tenants/{tenant}/rollouts/{name}/pause',
  'post /api/v1/tenants/{tenant}/rollouts/{name}/resume',
  'post /api/v1/tenants/{tenant}/rollouts/{name}/rollback',
  'delete /api/v1/tenants/{tenant}/rollouts/{name}',
  'get /api/v1/firmware',
  'post /api/v1/firmware',
  'get /api/v1/firmware/{version}',
  'delete /api/v1/firmware/{version}',
];

/**
 * The routes test/admin/api-routes-dashboard.test.ts covers (it checks its table is exactly these),
 * for the coverage union in api-routes.test.ts.
 */
export const DASHBOARD_TABLE_ROUTES: readonly string[] = ['get /api/v1/tenants/{tenant}/dashboard'];

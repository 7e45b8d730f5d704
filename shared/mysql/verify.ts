// Schemas no check or comparison ever covers: the server's own. (The cutover's data check is
// shared/verify/cutover-check.ts; the comparison itself is shared/verify/.)
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

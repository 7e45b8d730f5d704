// The chunk planner and cursor store shared by the resumable logical copy and the data comparison.
export * from './keys.js';
export * from './key-values.js';
export * from './range-sql.js';
export * from './planner.js';
export * from './cursor-store.js';
export * from './budget.js';
